"""Every write of ``accounts`` (other apps import from here, never from the models)."""

from .api_keys import api_key_authenticate, api_key_create, api_key_revoke
from .codes import (
    codes_purge_expired,
    oauth_handoff_consume,
    oauth_handoff_issue,
    ws_ticket_consume,
    ws_ticket_issue,
)
from .email import (
    email_verification_mail_send,
    email_verification_request,
    email_verify_confirm,
)
from .google import GoogleSignInRefused, google_audiences, google_id_token_verify, google_sign_in
from .roles import ROLES, user_role, user_role_set
from .tokens import (
    TokenPair,
    TokenRejected,
    token_family_revoke,
    token_pair_issue,
    token_records_purge_expired,
    token_refresh,
    tokens_revoke_all,
)
from .users import (
    AccountLocked,
    InvalidCredentials,
    accounts_purge_deactivated,
    password_reset_confirm,
    password_reset_mail_send,
    password_reset_request,
    user_authenticate,
    user_deactivate,
    user_password_change,
    user_profile_update,
    user_signin,
    user_signup,
)

__all__ = [
    "ROLES",
    "AccountLocked",
    "GoogleSignInRefused",
    "InvalidCredentials",
    "TokenPair",
    "TokenRejected",
    "accounts_purge_deactivated",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "codes_purge_expired",
    "email_verification_mail_send",
    "email_verification_request",
    "email_verify_confirm",
    "google_audiences",
    "google_id_token_verify",
    "google_sign_in",
    "oauth_handoff_consume",
    "oauth_handoff_issue",
    "password_reset_confirm",
    "password_reset_mail_send",
    "password_reset_request",
    "token_family_revoke",
    "token_pair_issue",
    "token_records_purge_expired",
    "token_refresh",
    "tokens_revoke_all",
    "user_authenticate",
    "user_deactivate",
    "user_password_change",
    "user_profile_update",
    "user_role",
    "user_role_set",
    "user_signin",
    "user_signup",
    "ws_ticket_consume",
    "ws_ticket_issue",
]
