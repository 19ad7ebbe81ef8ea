#!/usr/bin/env python3
"""Writes a CSV of N people for the import benchmark: email, name, phone, and three purposes
(service, marketing_sms, personalisation), each with its own consent date within its retention.

    python3 bench/make_import.py 1000000 /tmp/people.csv
"""

import sys


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("email,name,phone,service,service_at,marketing_sms,marketing_sms_at,personalisation,personalisation_at\n")
        for i in range(n):
            month, day = 1 + i % 9, 1 + i % 28
            out.write(
                f"person{i:07d}@example.com,Person {i},010-{1000 + i % 9000:04d}-{i % 10000:04d},"
                f"Y,2026-{month:02d}-{day:02d},Y,2026-{month:02d}-{day:02d} 10:30,Y,2026.{month}.{day}\n"
            )


if __name__ == "__main__":
    main()
