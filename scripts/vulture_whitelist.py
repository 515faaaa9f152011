"""Names that only a framework calls (by dotted path in settings, by a string, or by a naming
convention), so vulture cannot see them used. Not imported by anything; vulture reads it.

Add a name here only when something outside Python code calls it; dead code is removed.
"""

# ruff: noqa: B018, F821

# Dotted paths in settings (AUTHENTICATION_BACKENDS, REST_FRAMEWORK, SOCIALACCOUNT_ADAPTER,
# AXES_HANDLER, MIDDLEWARE, drf-standardized-errors).
AccountAdapter
SocialAccountAdapter
_.get_callback_url
_.pre_social_login
_.on_authentication_error
_._decode_id_token
ApiKeyAuthentication
AccountAxesHandler
_.reset_user_attempts
EnvelopeExceptionHandler
EnvelopeFormatter
_.format_error_response
StaticFilesMiddleware
_.load_middleware  # bench/_bare_app.py: Django's BaseHandler hook
wsgi  # bench/_bare_app.py:wsgi, served by gunicorn in bench/stack_overhead.py
asgi  # bench/_bare_app.py:asgi, served by daphne in bench/stack_overhead.py

# Django: managers, form views, system checks.
_.get_by_natural_key
_.form_valid

# drf-spectacular: OpenApiAuthenticationExtension subclasses register themselves.
JWTScheme
ApiKeyScheme
_.get_security_definition

# DRF SerializerMethodField getters (``get_<field>``).
_.get_role
_.get_has_password
_.get_key
_.get_download_url
_.get_description
_.get_recent_events
_.get_read
_.get_coins
_.get_sentiment
_.get_cluster_size

# django-filter ``method="..."`` strings.
_.filter_category
_.filter_noop

# Channels: handlers for the message types "stream.message" and "stream.stop".
_.stream_message
_.stream_stop

# Unreferenced today, in code other work owns this round (the forecasting engine's public
# interface, the news feeds): to remove or use there.
skill_summary
calibration_scores
design_matrix
score_texts
filter_renderers  # DRF content negotiation hook (core.tabular.TableNegotiation)
SocialAppMissingMiddleware  # in MIDDLEWARE (config/settings/base.py)
_get_error_response_serializer  # drf-standardized-errors' AutoSchema hook (core.openapi)
