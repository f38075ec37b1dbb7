"""Batch providers: the OpenAI batch protocol written once (``base``), one module per provider
(``openai``, ``azure``, ``local``) with its profile, and the factory that builds one from a config."""
