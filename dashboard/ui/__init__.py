"""The Streamlit glue: the only part of the model that imports Streamlit.

``session`` works out who is signed in and the context every cached figure is keyed
by; ``cached`` caches source data and expensive results per viewer scope;
``routes`` hands a kept sign-in to the browser as a cookie. ``state`` keeps the view
in the session and the URL, ``controls`` holds the pickers pages share, ``links`` the
links between pages, ``upload_form`` the upload form, and ``widgets`` the page furniture.
Pages call these and the model; nothing else in ``dashboard`` touches
Streamlit (the architecture test keeps it so).
"""
