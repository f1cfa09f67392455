"""Django CACHES on Redis: without a socket timeout in OPTIONS, redis-py waits forever and every
request that reads the cache (sessions, permissions, throttles) hangs with a stalled Redis."""

import os

REDIS_URL = os.environ.get("REDIS_URL", "redis://cache:6379/1")
REDIS_HOST = os.environ.get("REDIS_HOST", "cache")
SESSIONS_LOCATION = "redis://cache:6379/4"
BOUNDED_LOCATION = "redis://cache:6379/5?socket_timeout=1&socket_connect_timeout=1"
LOCAL_LOCATION = "redis://127.0.0.1:6379/7"  # a name the deployment's settings rebind

CACHES = {
    "default": {  # expect: timeouts
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://{REDIS_HOST}:6379/0",
    },
    "sessions": {  # expect: timeouts
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://cache:6379/2",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
    "throttles": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://cache:6379/3",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 1},
    },
    "reports": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,  # may carry ?socket_timeout=
    },
    "sentinel": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://mymaster/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_POOL_KWARGS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        },
    },
    "user_sessions": {  # expect: timeouts
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": SESSIONS_LOCATION,
    },
    "bounded": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": BOUNDED_LOCATION,
    },
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # A Redis on this host written into the entry: a development default the deployment's
    # settings replace whole.
    "dev": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/6",
    },
    "rebound": {  # expect: timeouts
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": LOCAL_LOCATION,
    },
}
