"""The live build page (``clx serve``, ``clx build --serve``): read-only, on 127.0.0.1."""
