"""Bundled vocabularies (data files); see each file's `_about` for its shape."""
