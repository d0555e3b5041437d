"""The data explorer's parts: what is selected (``picker``), the shared state that reads it
(``state``), the paged tick grid (``grid``), the candlestick chart (``chart``) and the export
(``export``). The page (dashboards/explorer.ipynb) composes them around one ``ExplorerState``."""
