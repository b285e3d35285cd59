"""Small end-to-end pipelines (the compare.py T1/T2 rows at a size asv can repeat quickly)."""
import os
import tempfile

from benchmarks.baselines import naive_crc32, naive_sha256, write_file
from benchmarks.rows_pipelines import file_pipeline_naive, file_pipeline_ours, t1_makers

T1_CHUNKS = 5_000
FILE_BYTES = 8 * 1024 * 1024


class OneKiBPipeline:
    """T1: 1 KiB chunks, validation on, 5 % shuffled, processor -> queue -> consumer."""

    params = [["ours", "naive", "ours_stream", "naive_stream"]]
    param_names = ["pipeline"]

    def setup(self, pipeline):
        self.maker = t1_makers(T1_CHUNKS)[pipeline]

    def time_pipeline(self, pipeline):
        self.maker()()


class FilePipeline:
    """T2/T3: 64 KiB chunks from a page-cached 8 MiB file, checksum computed and verified."""

    params = [["rs2fast-crc32c-1", "rs2fast-crc32c-2", "rs2fast-sha256-2", "naive-zlib", "naive-sha256"]]
    param_names = ["pipeline"]

    def setup(self, pipeline):
        self.dir = tempfile.mkdtemp(prefix="rs2fast-asv-")
        self.path = os.path.join(self.dir, "data.bin")
        write_file(self.path, FILE_BYTES)
        side, algo, *workers = pipeline.split("-")
        if side == "rs2fast":
            self.maker = file_pipeline_ours(self.path, 65536, algo, int(workers[0]))
        else:
            check = naive_crc32 if algo == "zlib" else naive_sha256
            self.maker = file_pipeline_naive(self.path, 65536, check)

    def teardown(self, pipeline):
        os.unlink(self.path)
        os.rmdir(self.dir)

    def time_pipeline(self, pipeline):
        self.maker()()

    def track_gbps(self, pipeline):
        import time
        run = self.maker()
        started = time.perf_counter()
        run()
        return FILE_BYTES / (time.perf_counter() - started) / 1e9

    track_gbps.unit = "GB/s"


def timeraw_import_rs2fast():
    """T8: `import rs2fast` in a fresh interpreter (the checkout is put on sys.path first, for
    `-E existing` runs of an in-place build)."""
    import rs2fast
    root = os.path.dirname(os.path.dirname(os.path.abspath(rs2fast.__file__)))
    return f"import sys; sys.path.insert(0, {root!r})\nimport rs2fast"
