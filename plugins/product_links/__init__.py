"""Recognises product links in customer messages: a product card for everyone, facts for the
bot. ``facts`` holds the pure parsing; ``plugin`` the plugin."""

from plugins.product_links.plugin import ProductLinksPlugin

__all__ = ["ProductLinksPlugin"]
