"""The plugin ("message interceptor") framework: base class, registry, runner, configuration.

Writing a plugin: docs/plugins.md. The entry points for the rest of the code are in
``helpdesk.plugins.runner``.
"""
