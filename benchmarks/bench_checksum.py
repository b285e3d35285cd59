"""CRC-32C against zlib.crc32, hashlib.sha256 and xxh3 on 1 KiB and 64 KiB blocks (4 MiB per call)."""
import hashlib
import random
import time
import zlib

from rs2fast._chunk import crc32c

TOTAL = 4 * 1024 * 1024


def blocks_of(block_size):
    """A reproducible 4 MiB buffer cut into blocks of `block_size` bytes."""
    data = random.Random(1).randbytes(TOTAL)
    return [data[i:i + block_size] for i in range(0, TOTAL, block_size)]


class Checksum:
    """Checksum every block of a 4 MiB buffer."""

    params = [1024, 65536]
    param_names = ["block_size"]

    def setup(self, block_size):
        self.blocks = blocks_of(block_size)

    def time_crc32c(self, block_size):
        for b in self.blocks:
            crc32c(b)

    def time_zlib_crc32(self, block_size):
        for b in self.blocks:
            zlib.crc32(b)

    def time_sha256(self, block_size):
        for b in self.blocks:
            hashlib.sha256(b).digest()

    def track_crc32c_gbps(self, block_size):
        started = time.perf_counter()
        for b in self.blocks:
            crc32c(b)
        return TOTAL / (time.perf_counter() - started) / 1e9

    track_crc32c_gbps.unit = "GB/s"


class Xxh3:
    """xxh3_64 over the same blocks; skipped when the optional xxhash package is missing."""

    params = Checksum.params
    param_names = Checksum.param_names

    def setup(self, block_size):
        try:
            import xxhash
        except ImportError:
            raise NotImplementedError("xxhash is not installed (pip install xxhash)") from None
        self.digest = xxhash.xxh3_64_intdigest
        self.blocks = blocks_of(block_size)

    def time_xxh3(self, block_size):
        digest = self.digest
        for b in self.blocks:
            digest(b)
