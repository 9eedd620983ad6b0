"""The `nvr` commands (`cli` parses them): run (the composition root, which adds the API to the core), analyze,
camera, clip, user. Only this subpackage of nvr imports api."""
