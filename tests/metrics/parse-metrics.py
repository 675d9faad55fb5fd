#!/usr/bin/python3
"""Reads slotd's /metrics text with prometheus_client's own parser
(Debian python3-prometheus-client) and prints one sample a line:

    NAME<TAB>LABEL=VALUE,LABEL=VALUE (sorted)<TAB>VALUE

so tests/test-metrics.c can look samples up without parsing the format
itself. Exits non-zero when the parser refuses the text."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in
                              sorted(sample.labels.items()))
            print(f"{sample.name}\t{labels}\t{sample.value!r}")


if __name__ == "__main__":
    main()
