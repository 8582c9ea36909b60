"""One settings module, read from the environment.

The defaults are the embedded demo: SQLite, django-q2's ORM broker, mail written to files and
the offline providers. Production sets the variables documented in README.md.
Over 400 lines on purpose: every setting and the reason for its default, in one place.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def envbool(name: str, default: str) -> bool:
    """A boolean setting, read strictly: a typo (DEBUG=ture) stops the start-up with a clear
    message instead of quietly meaning False."""
    value = os.getenv(name, default).strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.getenv(name)!r} is not a boolean: use one of "
        f"{', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}."
    )


def envint(name: str, default: int) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = os.getenv("SECRET_KEY", "demo-only-not-secret-change-me-in-production")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Absolute address of this site, used in links inside emails.
SITE_URL = os.getenv("SITE_URL", f"http://127.0.0.1:{os.getenv('PORT', '8000')}").rstrip("/")
SITE_NAME = os.getenv("SITE_NAME", "Demo Phone Shop")

INSTALLED_APPS = [
    "unfold.apps.BasicAppConfig",  # our own AdminConfig sets the site
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "backoffice.sites.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "workflows",  # before django_q: its qcluster command replaces django-q2's (graceful stop)
    "django_q",
    "import_export",
    "axes",
    # Two-step sign-in (backoffice.twostep): authenticator apps and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "backoffice",
    "buyer_portal",
]

MIDDLEWARE = [
    # /healthz and /readyz for the load balancer, before host checks, redirects and sign-in.
    "backoffice.health.HealthMiddleware",
    # X-Request-ID on every response, the same id on every log line of the request.
    "backoffice.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "backoffice.csp.SiteCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "backoffice.middleware.RejectNulMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A session that still owes the second step reaches only its pages (backoffice.twostep).
    "backoffice.twostep.TwoStepMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into backoffice.signin.login_locked_out.
    "axes.middleware.AxesMiddleware",
]
# django-axes checks the lockout before any password is tested.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of Unfold's own templates (apps listed before ours would win otherwise).
        "DIRS": [BASE_DIR / "backoffice" / "overrides"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # |money and |when (workflows.formatting) in every template, without a load.
            "builtins": ["workflows.templatetags.email_format"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Persistent connections: each request (and django-q2's ORM broker, which closes
        # "old" connections before every enqueue) would otherwise reconnect several times.
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the django-q2 worker share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Our own strings are English only so far (marked for translation, no .po files): a browser
# asking for German must not get Django's German messages inside English pages.
LANGUAGES = [("en", "English")]
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes (nginx serves it in docs/deploy/nginx-tradein.conf).
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Serve what `collectstatic` wrote: hashed names cached for a year, gzip beside each file
# (whitenoise picks it per request). `make run` and production do; tests and a bare
# `runserver` read the source folders instead, uncompressed and uncached.
SERVE_COLLECTED_STATIC = envbool("SERVE_COLLECTED_STATIC", str(not DEBUG))
STORAGES = {
    # Replaced below when STORAGE_S3_BUCKET is set ("Files" section).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "police_reports": {"BACKEND": "workflows.storage.ReportFolderStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if SERVE_COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not SERVE_COLLECTED_STATIC
WHITENOISE_AUTOREFRESH = not SERVE_COLLECTED_STATIC
# /favicon.ico and other files browsers ask for at the root.
WHITENOISE_ROOT = BASE_DIR / "public"

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Email -------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "trade-ins@demo-shop.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.getenv("EMAIL_HOST", "")
if EMAIL_HOST:
    # Django's SMTP backend, waiting EMAIL_DATA_TIMEOUT for the server to accept a message.
    EMAIL_BACKEND = "workflows.integrations.mail.SMTPBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True")
    EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
else:
    # Demo: every mail is written to var/mail/ so the links in it can be opened by hand.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
# How long the SMTP server may take to accept a message once it has it all
# (workflows.integrations.mail).
EMAIL_DATA_TIMEOUT = envint("EMAIL_DATA_TIMEOUT", 60)
# Where buyers' answers to our emails go.
SHOP_REPLY_TO = os.getenv("SHOP_REPLY_TO", DEFAULT_FROM_EMAIL)
# Optional address that also gets a mail for each new submission.
STAFF_NOTIFY_EMAIL = os.getenv("STAFF_NOTIFY_EMAIL", "")

# --- Business rules -----------------------------------------------------------------------------
CURRENCY = os.getenv("CURRENCY", "USD")
CURRENCY_SYMBOL = os.getenv("CURRENCY_SYMBOL", "$")
QUOTE_VALID_DAYS = envint("QUOTE_VALID_DAYS", 7)
# Offers that learn (workflows.rules.pricing): the suggested buy price per model, storage and grade
# is the median realised sale price over the last PRICING_WINDOW_DAYS, minus the grade's
# expected refurbishment cost, minus the target margin (percent of the sale price), rounded
# down to the dollar; with fewer than PRICING_MIN_SALES sales, market resale prices instead.
PRICING_WINDOW_DAYS = envint("PRICING_WINDOW_DAYS", 90)
PRICING_MIN_SALES = envint("PRICING_MIN_SALES", 3)
PRICING_TARGET_MARGIN_PERCENT = envint("PRICING_TARGET_MARGIN_PERCENT", 25)
PRICING_REFURBISHMENT = {
    "A": envint("PRICING_REFURBISHMENT_A", 10),
    "B": envint("PRICING_REFURBISHMENT_B", 25),
    "C": envint("PRICING_REFURBISHMENT_C", 45),
}
# "Apply all" changes the offers whose suggestion differs by more than this percent.
PRICING_APPLY_THRESHOLD_PERCENT = envint("PRICING_APPLY_THRESHOLD_PERCENT", 5)
# A business's device list (workflows.rules.device_list): at most this many devices per file.
DEVICE_LIST_MAX_ROWS = envint("DEVICE_LIST_MAX_ROWS", 500)
# The largest device-list file (CSV or XLSX) a business or staff may upload, in bytes.
DEVICE_LIST_MAX_BYTES = envint("DEVICE_LIST_MAX_BYTES", 2 * 1024 * 1024)
# An accepted trade-in whose device has not arrived after this many days is cancelled.
ARRIVAL_WINDOW_DAYS = envint("ARRIVAL_WINDOW_DAYS", 14)
SHOP_ADDRESS = os.getenv("SHOP_ADDRESS", "12 Market Street, Springfield, 62701")
SHOP_HOURS = os.getenv("SHOP_HOURS", "Mon-Sat 10:00-18:00")
# Buyers in these postcodes who choose shipping are asked whether they would rather drop the
# device off (their choice stands either way).
LOCAL_PICKUP_POSTCODES = envlist("LOCAL_PICKUP_POSTCODES", "62701,62702,62703")
# The countries the buyer form ships from (ISO codes; labels need one), the first the default.
SHIP_COUNTRIES = envlist("SHIP_COUNTRIES", os.getenv("DEFAULT_COUNTRY", "US"))
DEFAULT_COUNTRY = os.getenv("DEFAULT_COUNTRY", SHIP_COUNTRIES[0])
# A revised offer after inspection: days the buyer has to answer, and what happens without an
# answer ("return": the device goes back to them; "accept": the revised amount is paid).
REVISED_OFFER_DAYS = envint("REVISED_OFFER_DAYS", 7)
REVISED_OFFER_DEFAULT = os.getenv("REVISED_OFFER_DEFAULT", "return")
if REVISED_OFFER_DEFAULT not in ("return", "accept"):
    raise ImproperlyConfigured("REVISED_OFFER_DEFAULT is 'return' or 'accept'.")
# Intake photos: Django's default storage (files under MEDIA_ROOT unless STORAGES says
# otherwise). Never served from MEDIA_URL: staff and signed buyer links read them via views.
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
# --- Files: intake photos and police reports (workflows/storage.py) -----------------------------
# Local folders (MEDIA_ROOT, POLICE_REPORT_DIR) unless STORAGE_S3_BUCKET names an S3-compatible
# bucket (AWS S3; MinIO, R2 and the like by STORAGE_S3_ENDPOINT_URL) that every web server and
# worker shares. Objects are private; nothing links to the bucket: our views serve the files.
# Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or boto3's own (an instance role).
STORAGE_S3_BUCKET = os.getenv("STORAGE_S3_BUCKET", "")
if STORAGE_S3_BUCKET:
    _s3 = {
        "bucket_name": STORAGE_S3_BUCKET,
        "endpoint_url": os.getenv("STORAGE_S3_ENDPOINT_URL") or None,
        "region_name": os.getenv("STORAGE_S3_REGION", os.getenv("AWS_DEFAULT_REGION")) or None,
        # "path" for MinIO and most self-hosted servers; empty: boto3 decides.
        "addressing_style": os.getenv("STORAGE_S3_ADDRESSING_STYLE") or None,
        "signature_version": "s3v4",
        # Empty for servers that refuse ACL headers (R2); a private bucket keeps objects private.
        "default_acl": os.getenv("STORAGE_S3_ACL", "private") or None,
        "querystring_auth": True,  # a url() would be signed and short-lived; we hand none out
        "file_overwrite": False,  # a photo never replaces another
    }
    _prefix = os.getenv("STORAGE_S3_PREFIX", "").strip("/")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": f"{_prefix}/media" if _prefix else "media"},
    }
    STORAGES["police_reports"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        # The same report sent again replaces its file.
        "OPTIONS": {
            **_s3,
            "location": f"{_prefix}/police-reports" if _prefix else "police-reports",
            "file_overwrite": True,
        },
    }
INSPECTION_PHOTO_MAX_BYTES = envint("INSPECTION_PHOTO_MAX_BYTES", 10 * 2**20)
# Pixels (width x height) an intake photo may declare; checked before it is decoded, so a small
# file declaring a huge image is refused instead of filling the memory. 40 MP fits any phone.
INSPECTION_PHOTO_MAX_PIXELS = envint("INSPECTION_PHOTO_MAX_PIXELS", 40_000_000)


# --- Compliance: second-hand dealer rules (docs/compliance.md); each jurisdiction decides ------
# Read strictly: a value that is not what the rule expects stops the start with a clear message,
# because a typo here would quietly make the shop buy what its law forbids.
def _strict(name: str, default: str, parse, expected: str):
    raw = os.getenv(name, default).strip()
    try:
        return parse(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name}={raw!r}: expected {expected}.") from None


def _non_negative(raw: str) -> int:
    value = int(raw)
    return value if value >= 0 else _raise()


def _positive(raw: str) -> int:
    value = int(raw)
    return value if value > 0 else _raise()


def _one_of(*choices: str):
    return lambda raw: raw.lower() if raw.lower() in choices else _raise()


def _raise():
    raise ValueError


# The buyer confirms this, word for word, when accepting an offer (stored with each acceptance).
DECLARATION_REQUIRED = envbool("DECLARATION_REQUIRED", "true")
SELLER_MIN_AGE = _strict("SELLER_MIN_AGE", "18", _positive, "an age in years, like 18")
DECLARATION_TEXT = os.getenv(
    "DECLARATION_TEXT",
    # One wording for a device and for a basket of several (confirmed once for the order).
    "I declare that I am the lawful owner of the device or devices I am selling, that I have "
    "the right to sell them, that they are not stolen, and that I am at least {min_age} years "
    "old.",
)
# Ask the buyer's date of birth with the declaration (an under-age date refuses the purchase).
DECLARATION_ASKS_BIRTH_DATE = envbool("DECLARATION_ASKS_BIRTH_DATE", "false")
# Seller identity: off, "dropoff" (before the device is received) or "payout" (before paying).
SELLER_ID_REQUIRED = _strict(
    "SELLER_ID_REQUIRED", "off", _one_of("off", "dropoff", "payout"), "off, dropoff or payout"
)
# Fernet keys for ID numbers at rest, comma-separated, newest first (older ones still decrypt,
# so keys can be rotated). The default is a DEMO key, public in this repository: production
# must set its own: python -c "from cryptography.fernet import Fernet as F; print(F.generate_key())"
DEMO_ID_ENCRYPTION_KEY = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
ID_ENCRYPTION_KEYS = envlist("ID_ENCRYPTION_KEYS", DEMO_ID_ENCRYPTION_KEY)
for _key in ID_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(
            "ID_ENCRYPTION_KEYS: each key must be a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None
# Days a received unit may not be listed or sold, counted from when its purchase was reported.
HOLD_DAYS = _strict("HOLD_DAYS", "0", _non_negative, "a number of days (0 = no hold)")
# The police report: "off", "folder" (POLICE_REPORT_DIR) or "http" (POST to POLICE_REPORT_URL).
POLICE_REPORT = _strict(
    "POLICE_REPORT", "off", _one_of("off", "folder", "http"), "off, folder or http"
)
POLICE_REPORT_DIR = Path(os.getenv("POLICE_REPORT_DIR", VAR_DIR / "police-reports"))
POLICE_REPORT_URL = os.getenv("POLICE_REPORT_URL", "")
POLICE_REPORT_TOKEN = os.getenv("POLICE_REPORT_TOKEN", "")  # sent as "Authorization: Bearer"
POLICE_REPORT_TIMEOUT = _strict("POLICE_REPORT_TIMEOUT", "20", _positive, "seconds, like 20")
# A report goes out once its oldest purchase has waited this long (0: at the next run, every
# 15 minutes).
POLICE_REPORT_EVERY_HOURS = _strict(
    "POLICE_REPORT_EVERY_HOURS", "12", _non_negative, "a number of hours, like 12"
)
# A purchase not reported this many hours after it was received is late on the dashboard.
POLICE_REPORT_DEADLINE_HOURS = _strict(
    "POLICE_REPORT_DEADLINE_HOURS", "24", _positive, "a number of hours, like 24"
)
# Days the purchase record (buyer, identity, declaration) is kept after the purchase; then the
# personal data is anonymised and the financial rows stay.
RETENTION_DAYS = _strict("RETENTION_DAYS", "365", _positive, "a number of days, like 365")
if POLICE_REPORT == "http" and not POLICE_REPORT_URL:
    raise ImproperlyConfigured("POLICE_REPORT=http needs POLICE_REPORT_URL.")

# --- Outside systems (offline demo providers unless configured) --------------------------------
# Each is live when its key is set; workflows/integrations/ has one module per system.
IMEI_CHECK_URL = os.getenv("IMEI_CHECK_URL", "")
IMEI_CHECK_API_KEY = os.getenv("IMEI_CHECK_API_KEY", "")
# Empty: the service's brand-independent GSMA blacklist check, picked from GET /v1/services.
# (imeicheck.net's service 1, the old default, is "Apple Basic Info": Apple devices only.)
IMEI_CHECK_SERVICE_ID = os.getenv("IMEI_CHECK_SERVICE_ID", "")
IMEI_CHECK_TIMEOUT = float(os.getenv("IMEI_CHECK_TIMEOUT", "10"))
# The counter asks the IMEI service while the customer waits: a short timeout, then "check again".
COUNTER_IMEI_TIMEOUT = float(os.getenv("COUNTER_IMEI_TIMEOUT", "4"))
# Cash paid at the counter above this amount needs a manager (0: no limit).
COUNTER_CASH_LIMIT = Decimal(os.getenv("COUNTER_CASH_LIMIT", "500"))
# A counter buyback nobody finished in this many minutes is abandoned by the sweep.
COUNTER_ABANDON_MINUTES = envint("COUNTER_ABANDON_MINUTES", 120)
# A paid check's result is reused for the same IMEI for this long (a staff re-run never is).
IMEI_CHECK_CACHE_SECONDS = envint("IMEI_CHECK_CACHE_SECONDS", 24 * 3600)
SHIPENGINE_API_KEY = os.getenv("SHIPENGINE_API_KEY", "")
# What a label of the sample (demo) provider counts as costing, so margins in the demo are real.
SAMPLE_LABEL_COST = Decimal(os.getenv("SAMPLE_LABEL_COST", "7.50"))
SHIPENGINE_BASE_URL = os.getenv("SHIPENGINE_BASE_URL", "https://api.shipengine.com")
SHIPENGINE_CARRIER_ID = os.getenv("SHIPENGINE_CARRIER_ID", "")
SHIPENGINE_SERVICE_CODE = os.getenv("SHIPENGINE_SERVICE_CODE", "usps_priority_mail")
SHIPENGINE_TIMEOUT = float(os.getenv("SHIPENGINE_TIMEOUT", "15"))
SHIPENGINE_RETURN_LABELS = envbool("SHIPENGINE_RETURN_LABELS", "True")
# The label's ship-to: where buyers send their devices.
WAREHOUSE_NAME = os.getenv("WAREHOUSE_NAME", SITE_NAME)
WAREHOUSE_PHONE = os.getenv("WAREHOUSE_PHONE", "555-555-0100")
WAREHOUSE_ADDRESS_LINE1 = os.getenv("WAREHOUSE_ADDRESS_LINE1", "12 Market Street")
WAREHOUSE_CITY = os.getenv("WAREHOUSE_CITY", "Springfield")
WAREHOUSE_STATE = os.getenv("WAREHOUSE_STATE", "IL")
WAREHOUSE_POSTCODE = os.getenv("WAREHOUSE_POSTCODE", "62701")
WAREHOUSE_COUNTRY = os.getenv("WAREHOUSE_COUNTRY", "US")
STRIPE_SECRET_KEY = os.getenv("STRIPE_SECRET_KEY", "")
# Two webhook endpoints, two signing secrets: the platform's own events (transfer.*) and the
# Connect endpoint's events of connected accounts (account.updated, payout.*).
# See docs/providers.md.
STRIPE_WEBHOOK_SECRET = os.getenv("STRIPE_WEBHOOK_SECRET", "")
STRIPE_CONNECT_WEBHOOK_SECRET = os.getenv("STRIPE_CONNECT_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.getenv("STRIPE_API_BASE", "")  # empty: Stripe's own
STRIPE_TIMEOUT = float(os.getenv("STRIPE_TIMEOUT", "20"))
STRIPE_CONNECT_COUNTRY = os.getenv("STRIPE_CONNECT_COUNTRY", "US")
# The platform account's country: a buyer's account elsewhere gets the recipient agreement.
STRIPE_PLATFORM_COUNTRY = os.getenv("STRIPE_PLATFORM_COUNTRY", "US")
# How often a failed side effect is retried, and how long to wait before each try (seconds).
SIDE_EFFECT_MAX_ATTEMPTS = envint("SIDE_EFFECT_MAX_ATTEMPTS", 8)
SIDE_EFFECT_BACKOFF = [30, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600]

# --- Task queue (django-q2) ---------------------------------------------------------------------
Q_CLUSTER = {
    "name": "tradeins",
    "workers": envint("Q_WORKERS", 2),
    # A task may run this long before django-q2 kills it. It must outlast one side effect's
    # slowest outside call (EMAIL_TIMEOUT + EMAIL_DATA_TIMEOUT for a mail), and the outbox
    # lease (workflows.tasks.outbox.LEASE) must outlast it, or a second worker could send the
    # same mail while the first still waits for the server. `manage.py check` verifies both.
    "timeout": envint("Q_TIMEOUT", 240),
    "retry": envint("Q_TIMEOUT", 240) + 60,
    "max_attempts": 1,  # retries are ours: see workflows.models.SideEffect
    "catch_up": False,
    "save_limit": 1000,
    "orm": "default",
    "log_level": os.getenv("Q_LOG_LEVEL", "WARNING"),
}
if os.getenv("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = os.getenv("REDIS_URL")

# /readyz (backoffice.health) fails when the side effect due longest has waited this long, or no
# django-q2 worker has been seen for this long (minutes; fractions allowed).
READY_MAX_OUTBOX_AGE_MINUTES = float(os.getenv("READY_MAX_OUTBOX_AGE_MINUTES", "15"))
READY_WORKER_SEEN_MINUTES = float(os.getenv("READY_WORKER_SEEN_MINUTES", "5"))

# --- Caches --------------------------------------------------------------------------------------
# "shared" is seen by every web worker: the buyer form's rate limit counts there. By default a
# table in the database they already share (`manage.py createcachetable`); its incr is
# read-then-write, so two requests in the same instant may count once, close enough for "try
# again in a minute". REDIS_URL makes the counts exact. "default" stays per process, so busy
# writers such as django-q2's cluster stats do not land in the database.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.getenv("REDIS_URL"),
    }
    if os.getenv("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"},
}
RATELIMIT_USE_CACHE = "shared"
# Submissions of the buyer form per client address (django-ratelimit rate: "10/m", "100/h").
BUYER_SUBMIT_RATE = os.getenv("BUYER_SUBMIT_RATE", "10/m")
# The most devices one buyer's trade-in (an order, issue 20) may hold.
BASKET_MAX_DEVICES = envint("BASKET_MAX_DEVICES", 10)
# Behind a proxy the client address is in a header, e.g. HTTP_X_REAL_IP (set by your proxy).
RATELIMIT_IP_META_KEY = os.getenv("RATELIMIT_IP_META_KEY") or None
# Dashboard sign-in (backoffice.signin): django-axes counts failures per username and client
# address together; after LOGIN_FAILURE_LIMIT of them that pair waits LOGIN_COOLOFF_MINUTES.
# A successful sign-in clears the count. `manage.py axes_reset_username NAME` lifts a lockout.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = envint("LOGIN_COOLOFF_MINUTES", 15)
# How long an enrolment link for two-step sign-in works (backoffice.twostep.issue_invite).
TWO_STEP_INVITE_HOURS = envint("TWO_STEP_INVITE_HOURS", 72)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "backoffice.signin.login_username"
AXES_CLIENT_IP_CALLABLE = "backoffice.signin.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "backoffice.signin.login_locked_out"
# Cleared by backoffice.twostep when the whole sign-in succeeds (with its second step, if any):
# a right password alone must not wipe the wrong codes typed after it.
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ADMIN = False  # its plain admin pages do not fit Unfold; use the command above
AXES_SENSITIVE_PARAMETERS = ["password", "code"]
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = os.getenv("OTP_TOTP_ISSUER", SITE_NAME)
# And any one address, whatever usernames it tries (a coarse django-ratelimit count).
LOGIN_FAILURES_PER_IP = os.getenv("LOGIN_FAILURES_PER_IP", "20/15m")
# Wrong store-credit codes (the counter, the managers' search) per staff login and per client
# address before code look-ups pause (backoffice/code_throttle.py).
STORE_CREDIT_CODE_FAILURES = os.getenv("STORE_CREDIT_CODE_FAILURES", "10/10m")
# A cache that answers nothing must not stop buyers from submitting.
RATELIMIT_FAIL_OPEN = True

# --- Security (production values come from the environment) -------------------------------------
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", "False") else None
)
X_FRAME_OPTIONS = "DENY"
# backoffice/csp.py explains each source. Browser tests load every kind of page with it and
# fail on any violation (tests/browser/test_csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOG_FORMAT = _strict("LOG_FORMAT", "plain", _one_of("plain", "json"), "plain or json")
# Errors to Sentry (off unless set), redacted like the logs (backoffice/errors.py).
SENTRY_DSN = os.getenv("SENTRY_DSN", "")
if SENTRY_DSN:
    from backoffice.errors import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=os.getenv("SENTRY_ENVIRONMENT", ""),
        release=os.getenv("SENTRY_RELEASE", ""),
    )

# Every line goes through backoffice.redaction: signed buyer links, IMEIs, email addresses and
# search terms never reach a log. django.request logs every 500 with its traceback (Django's
# own handlers for it print only with DEBUG on); django.server is runserver's request log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "backoffice.redaction.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        # LOG_FORMAT=json: one JSON object a line, with the request's id (backoffice.logs).
        "json": {"()": "backoffice.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "filters": {
        # An expected refusal (403, 404) is one line, not a traceback; 500s keep theirs.
        "one_line_4xx": {"()": "backoffice.logs.OneLineClientErrors"},
        "request_id": {"()": "backoffice.logs.RequestIdFilter"},
    },
    "loggers": {
        **{
            name: {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")}
            for name in ("workflows", "backoffice", "buyer_portal")
        },
        **{
            name: {
                "handlers": ["console"],
                "level": "WARNING",
                "propagate": False,
                "filters": ["one_line_4xx"],
            }
            # django-axes logs the usernames tried (sometimes an email); django-q2 a failed
            # task's error: both redacted like the rest.
            for name in ("django.request", "django.security", "axes")
        },
        "django-q": {
            "handlers": ["console"],
            "level": os.getenv("Q_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

from backoffice.unfold_conf import UNFOLD  # noqa: E402,F401
