"""CRC-32C against zlib.crc32, hashlib.sha256 and xxh3 on 1 KiB and 64 KiB blocks (4 MiB per call)."""
import hashlib
import random
import zlib

from rs2fast._chunk import crc32c

try:
    import xxhash
except ImportError:
    xxhash = None

TOTAL = 4 * 1024 * 1024


class Checksum:
    """Checksum every block of a 4 MiB buffer."""

    params = [1024, 65536]
    param_names = ["block_size"]

    def setup(self, block_size):
        data = random.Random(1).randbytes(TOTAL)
        self.blocks = [data[i:i + block_size] for i in range(0, TOTAL, block_size)]

    def time_crc32c(self, block_size):
        for b in self.blocks:
            crc32c(b)

    def time_zlib_crc32(self, block_size):
        for b in self.blocks:
            zlib.crc32(b)

    def time_sha256(self, block_size):
        for b in self.blocks:
            hashlib.sha256(b).digest()

    def time_xxh3(self, block_size):
        if xxhash is None:
            raise NotImplementedError("xxhash is not installed")
        for b in self.blocks:
            xxhash.xxh3_64_intdigest(b)

    def track_crc32c_gbps(self, block_size):
        import time
        started = time.perf_counter()
        for b in self.blocks:
            crc32c(b)
        return TOTAL / (time.perf_counter() - started) / 1e9

    track_crc32c_gbps.unit = "GB/s"
