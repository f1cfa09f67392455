"""A nightly import: reads rows, skips bad ones, reports progress."""

import logging


def import_rows(rows: list[dict]) -> int:
    imported = 0
    for row in rows:
        if "id" not in row:
            logging.warning(f"skipping row without id: {row}")
            continue
        imported += 1
    print("imported", imported, "of", len(rows), "rows")
    logging.info("import finished: %d rows" % imported)
    return imported
