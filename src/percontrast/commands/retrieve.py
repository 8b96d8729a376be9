"""Keep each record's top-k profile entries for its query (rule retrieve)."""

import argparse

from percontrast.cli import positive_int, set_threads, setup
from percontrast.data.records import read_records, write_records
from percontrast.data.retrieval import retrieve_top_k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input", required=True, help="records JSONL with full profiles")
    parser.add_argument("--k", type=positive_int, required=True, help="entries kept per record")
    parser.add_argument("--retriever", required=True,
                        help="bm25 | contriever | bundled-minilm | a dense model path or hub id")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    log = setup("retrieve")
    set_threads(args.threads)
    records = read_records(args.input)
    ranked = retrieve_top_k(records, args.k, args.retriever, progress=True)
    write_records(args.out, ranked)
    log.info("kept top-%d of %d records' profiles with %s -> %s", args.k, len(ranked),
             args.retriever, args.out)
