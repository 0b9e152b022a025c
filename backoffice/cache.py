"""The Redis cache backend, with clients built once per process instead of once per call."""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    # Django builds a new redis.Redis for every cache call, which costs more than the round trip
    # of a small GET. A client only borrows connections from its pool, so one can serve all the
    # threads of a process.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            pool = self._get_connection_pool(write)
            self._clients[index] = self._client(connection_pool=pool)
        return self._clients[index]


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
