"""The Advisor tab's view under Streamlit's AppTest: inputs change the advice."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _advisor_page() -> None:
    from ui.views.advisor import render_advisor

    render_advisor()


def _markdown(app: AppTest) -> str:
    return "\n".join(str(block.value) for block in app.markdown)


def test_the_advice_follows_the_traffic_typed_in() -> None:
    app = AppTest.from_function(_advisor_page, default_timeout=30)
    app.run()
    assert not app.exception
    assert "Recommendation: lambda" in _markdown(app)
    assert "make deploy TARGET=lambda" in app.code[0].value
    targets = list(app.dataframe[0].value["target"])
    assert targets[:3] == ["lambda", "fargate", "both@50"]
    app.number_input(key="advisor_rps").set_value(100.0).run()
    assert "Recommendation: fargate" in _markdown(app)
    assert "make deploy TARGET=fargate" in app.code[0].value
