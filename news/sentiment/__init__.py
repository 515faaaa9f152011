"""Headline sentiment: a small char-n-gram + VADER logistic model trained on CryptoLin."""
