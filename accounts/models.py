"""Users. E-mail is the login identifier; there is no username."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set by DELETE /me; the purge job anonymises the row after ACCOUNT_DELETION_GRACE_DAYS.
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email


class TokenFamily(models.Model):
    """One sign-in: every refresh token rotated from it belongs to the same family.

    simplejwt (5.5.1) has no family concept, so reuse detection lives here: reusing a refresh
    token that was already rotated revokes the whole family, and access tokens carry the
    family id (``fam``) so they die with it on the next request.
    """

    class Reason(models.TextChoices):
        LOGOUT = "logout"
        REUSE = "reuse"
        PASSWORD_CHANGE = "password_change"  # noqa: S105  (a reason, not a secret)
        PASSWORD_RESET = "password_reset"  # noqa: S105
        DEACTIVATED = "deactivated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, default="password")  # password | google
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"family {self.id} of user {self.user_id}"


class RefreshTokenRecord(models.Model):
    """Every refresh token issued (by ``jti``, never the token itself); ``used_at`` marks
    rotation. Consumed by one conditional UPDATE so two concurrent refreshes cannot both win."""

    jti = models.CharField(max_length=64, unique=True)
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="tokens")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.jti


class ApiKey(models.Model):
    """A per-user key for scripts. Only a SHA-256 digest of the secret is stored: the key has
    256 bits of entropy, so a slow hash adds nothing and lookup stays one indexed query."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class OneTimeCode(models.Model):
    """Short-lived single-use codes stored hashed in the database (not the cache, so every
    process sees them and nothing falls back to per-process memory): WebSocket tickets and
    the Google redirect-flow hand-off code."""

    class Purpose(models.TextChoices):
        WS_TICKET = "ws"
        OAUTH_HANDOFF = "oauth"

    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # OAuth hand-off only: S256 of the SPA's verifier, so only the browser that started the
    # flow can exchange the code (no login CSRF with someone else's code).
    challenge = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} code for user {self.user_id}"


class TotpDevice(models.Model):
    """One authenticator app per user (RFC 6238 TOTP, via pyotp). ``confirmed_at`` is set once
    the user proves the app works; until then sign-in ignores the device. ``last_step`` is the
    time step of the last accepted code, so a code (or an older one) is never accepted twice.

    The base32 secret must be readable to verify codes; it never leaves this table after
    enrolment (the admin does not show it, exports and audit rows never carry it)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"TOTP of user {self.user_id}"


class RecoveryCode(models.Model):
    """Single-use recovery codes, stored as SHA-256 digests (shown once when generated)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"recovery code of user {self.user_id}"


class MfaChallenge(models.Model):
    """Handed out by a password (or Google) sign-in of a 2FA user instead of tokens: short-lived,
    stored as a digest, consumed once by ``auth/signin/mfa`` together with a valid code."""

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=20, default="password")  # password | google
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"MFA challenge for user {self.user_id}"


class AuditEvent(models.Model):
    """Append-only record of security-relevant actions. Never holds a secret: ``data`` carries
    ids and names only (the services decide what goes in; a test greps the table for secrets).
    Rows are only created and, past ``AUDIT_RETENTION_DAYS``, deleted by the clean-up job."""

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        FAILURE = "failure"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # the account acted upon (the one that sees the row in GET auth/me/audit)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # who did it, when not the user themself (an admin changing a role, staff running a job)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} ({self.outcome}) at {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class DataExport(models.Model):
    """A user's request for everything held about them; the ZIP lives in
    ``ACCOUNTS_EXPORT_DIR`` until ``expires_at`` (then the clean-up job deletes file and row)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    file_name = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"export {self.id} of user {self.user_id} ({self.status})"


class OutboundMail(models.Model):
    """The accounts outbox: one row per e-mail, written in the transaction that asks for it.

    A task claims the row (``pending`` -> ``sending`` with a lease), builds the message, sends
    it and marks it ``sent``; a dead broker loses nothing (the sweep delivers pending rows) and
    a claimed row is never sent by two workers. The ``idempotency_key`` is the Message-ID, so a
    re-send after a worker died mid-send is one message to the receiving server.

    A password reset row names only the typed address (no user lookup in the request); the
    task decides whether an account gets a mail (``skipped`` when none does).
    """

    class Kind(models.TextChoices):
        EMAIL_VERIFICATION = "email_verification"
        PASSWORD_RESET = "password_reset"  # noqa: S105  (a kind, not a secret)

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        SKIPPED = "skipped"  # nothing to send (no such account, already verified, ...)
        FAILED = "failed"  # gave up (see last_error)

    kind = models.CharField(max_length=32, choices=Kind.choices)
    to_email = models.EmailField(max_length=254)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="accounts_mail_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"
