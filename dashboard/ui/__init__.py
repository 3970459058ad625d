"""The Streamlit glue: the only part of the model that imports Streamlit.

``cached`` caches source data and expensive results per viewer scope and works
out who is signed in; ``widgets`` holds the controls and page furniture the pages
share. Pages call these and the model; nothing else in ``dashboard`` touches
Streamlit (the architecture test keeps it so).
"""
