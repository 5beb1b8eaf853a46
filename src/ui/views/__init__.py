"""The page's parts: sidebar, Orders, New order and Order detail."""
