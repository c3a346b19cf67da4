"""Test doubles for external services; nothing here calls a paid API.

The fake LLM server lives in ``tests.fakes.llm_server`` (fixtures in ``tests.fakes.fixtures``).
It is not imported here so that ``python -m tests.fakes.llm_server`` runs cleanly.
"""
