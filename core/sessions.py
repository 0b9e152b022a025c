"""Sessions kept in the database and read through the shared cache, which may go away.

Django's cached_db engine, through the shop's tolerant cache: while the cache is away, sessions
are read from and saved to their rows alone, and a visitor's cart keeps working. A cache that
comes back may still hold sessions as they were before the outage, so every entry is stored with
the sessions' version token (core.cache.CacheVersion), which a process that saw the cache away
replaces once it answers again: those entries are then read from their rows.
"""

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

from core.cache import CacheVersion, tolerant_cache

VERSION = CacheVersion("sessions:version")


class SessionStore(CachedDBStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = tolerant_cache  # Django's delete() goes through it too
        self._version = None

    def load(self):
        self._version, data = VERSION.read(self.cache_key)
        if data is not None:
            return data
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        VERSION.store(
            self.cache_key, self._version, data, self.get_expiry_age(expiry=row.expire_date)
        )
        return data

    def exists(self, session_key):
        return bool(session_key) and (
            tolerant_cache.get(self.cache_key_prefix + session_key) is not None
            or DBStore.exists(self, session_key)
        )

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        version = self._version or VERSION.current()
        VERSION.store(self.cache_key, version, self._session, self.get_expiry_age())

    # The same, for async views (the shop serves WSGI; the tolerant cache is synchronous).
    async def aload(self):
        return await sync_to_async(self.load)()

    async def aexists(self, session_key):
        return await sync_to_async(self.exists)(session_key)

    async def asave(self, must_create=False):
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key=None):
        await sync_to_async(self.delete)(session_key)
