"""A tenant's knowledge: sources split into chunks (chunking), and lexical retrieval over them.

Chunks keep their source, heading and position so a later step can cite them. The text
primitives in ``lexical`` (normalising, stemming, CJK handling) are shared with the FAQ provider.
"""
