"""Serializers of `news`: shapes only, no logic."""

from __future__ import annotations

from rest_framework import serializers

from .models import Article
from .selectors import WINDOWS

MAX_TEXTS = 100
MAX_TEXT_CHARS = 1000


class ArticleSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    source_name = serializers.CharField(source="source.name", read_only=True)
    coins = serializers.SerializerMethodField()
    sentiment = serializers.SerializerMethodField()
    cluster_id = serializers.IntegerField(allow_null=True, read_only=True)
    cluster_size = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "url",
            "summary",
            "author",
            "language",
            "source",
            "source_name",
            "published_at",
            "fetched_at",
            "coins",
            "sentiment",
            "cluster_id",
            "cluster_size",
        ]

    def get_coins(self, obj: Article) -> list[str]:
        return [c.pk for c in obj.coins.all()]

    def get_sentiment(self, obj: Article) -> dict:
        return {"label": obj.sentiment_label, "score": obj.sentiment_score, "scorer": obj.scorer}

    def get_cluster_size(self, obj: Article) -> int:
        return obj.cluster.size if obj.cluster else 1


class WindowQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=list(WINDOWS), default="24h")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


class SentimentQuerySerializer(WindowQuerySerializer):
    coin = serializers.RegexField(r"^[a-z0-9][a-z0-9._-]{0,99}$", required=False)


class ToneQuerySerializer(serializers.Serializer):
    coin = serializers.CharField(max_length=100, help_text="Asset id or symbol, e.g. bitcoin")
    timespan = serializers.ChoiceField(choices=["1d", "7d", "30d", "90d"], default="7d")


class ImpactQuerySerializer(serializers.Serializer):
    coin = serializers.CharField(max_length=100)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)


class ScoreRequestSerializer(serializers.Serializer):
    texts = serializers.ListField(
        child=serializers.CharField(
            max_length=MAX_TEXT_CHARS, allow_blank=False, trim_whitespace=True
        ),
        min_length=1,
        max_length=MAX_TEXTS,
    )


class ScoredTextSerializer(serializers.Serializer):
    text = serializers.CharField()
    label = serializers.ChoiceField(choices=Article.Label.choices)
    score = serializers.FloatField(min_value=-1, max_value=1)
    probabilities = serializers.DictField(child=serializers.FloatField())


class ScoreResponseSerializer(serializers.Serializer):
    scorer = serializers.CharField()
    version = serializers.CharField()
    results = ScoredTextSerializer(many=True)


class RefreshRequestSerializer(serializers.Serializer):
    # A CharField, not URLField: the SSRF checks give the precise reason for every refusal.
    url = serializers.CharField(max_length=2000, trim_whitespace=True)


class CrawlProvenanceSerializer(serializers.Serializer):
    extractor = serializers.ChoiceField(
        choices=["trafilatura", "firecrawl"],
        help_text="firecrawl when FIRECRAWL_API_KEY is set and it answered, else the built-in",
    )
    fallback_reason = serializers.CharField(
        help_text="why Firecrawl was configured but not used (empty otherwise)"
    )


class RefreshResponseSerializer(serializers.Serializer):
    created = serializers.BooleanField()
    article = ArticleSerializer()
    crawl = CrawlProvenanceSerializer()
