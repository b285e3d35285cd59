"""Zero-copy split_buffer against bytes slicing and a naive dataclass split (1 KiB chunks of 4 MiB)."""
import random

from benchmarks.baselines import naive_split
from rs2fast._chunk import split_buffer

TOTAL = 4 * 1024 * 1024
SIZE = 1024


class Split:
    def setup(self):
        self.data = random.Random(1).randbytes(TOTAL)

    def time_split_buffer(self):
        split_buffer(self.data, "bench", SIZE)

    def time_split_buffer_crc32c(self):
        split_buffer(self.data, "bench", SIZE, checksum="crc32c")

    def time_bytes_slicing(self):
        data = self.data
        [data[i:i + SIZE] for i in range(0, TOTAL, SIZE)]

    def time_naive_dataclass_split(self):
        naive_split(self.data, "bench", SIZE)
