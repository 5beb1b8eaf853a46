"""The Streamlit front end of the orders service. It talks to the API over HTTP only."""
