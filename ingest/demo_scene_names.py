"""The demo scenes' names, apart from their rendering (`ingest.demo.scenes`): a configuration naming one is checked
without loading NumPy, OpenCV and PyAV, which a command such as `nvr user` never needs."""

DEMO_SCENE_NAMES = ("alley", "crossroad", "shopfront", "alley-night")
