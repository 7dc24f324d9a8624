"""RiskCards: an open knowledge base of language-model risks."""

__version__ = "0.1.0"
