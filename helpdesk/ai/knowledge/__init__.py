"""A tenant's knowledge: sources (articles, files, web pages) ingested into chunks, and the
retrieval over them that grounds the bot's replies (lexical BM25, fused with vectors when the
tenant has an embeddings endpoint). docs/ai.md describes it for operators.
"""
