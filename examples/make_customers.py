#!/usr/bin/env python3
"""Writes examples/customers-cp949.csv: the kind of customer list Assent replaces.

200 rows as Korean Excel saves them (CP949, Korean headers), with the mistakes real sheets have
(a typo in an address, an impossible date, a consent cell nobody can read, a person twice, a date
in the future) and people whose consents ended long ago. Deterministic: the same file every run.

    python3 examples/make_customers.py
    assent import --form newsletter examples/customers-cp949.csv --mapping examples/customers-mapping.toml --dry-run
"""

import random
from pathlib import Path

HEADERS = ["회원번호", "이메일", "이름", "휴대폰", "서비스 이용 동의", "이메일 수신 동의", "문자 수신 동의",
           "맞춤 서비스 동의", "가입일", "문자 동의일", "철회일", "가입 경로", "비고"]
FAMILY = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민준", "서연", "도윤", "하은", "시우", "지유", "주원", "서윤", "예준", "수아"]
SOURCES = ["2019 종이 신청서", "매장 가입", "홈페이지", "전화 상담", ""]


def date(rng, year_from, year_to):
    y = rng.randint(year_from, year_to)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    style = rng.randrange(4)
    return [f"{y}-{m:02d}-{d:02d}", f"{y}.{m:02d}.{d:02d}", f"{y}. {m}. {d}.", f"{y}/{m}/{d}"][style], (y, m, d)


def rows():
    rng = random.Random(16)
    out = []
    for i in range(1, 201):
        name = rng.choice(FAMILY) + rng.choice(GIVEN)
        joined, (y, m, d) = date(rng, 2019, 2026)
        if (y, m) >= (2026, 11):
            joined, (y, m, d) = "2026-06-15", (2026, 6, 15)
        email_yes = rng.random() < 0.7
        sms_yes = rng.random() < 0.5
        sms_at, withdrawn = "", ""
        if sms_yes and rng.random() < 0.3:
            sms_at = f"{min(y + 1, 2026)}-{m:02d}-{d:02d}"
        if not sms_yes and rng.random() < 0.3:
            # Agreed at sign-up, withdrew later.
            withdrawn = f"{min(y + 1, 2026)}.{m:02d}.{d:02d}"
        out.append([
            f"M{i:05d}", f"customer{i:03d}@example.com", name, f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
            "Y", "동의" if email_yes else "미동의", "Y" if sms_yes else "N", "Y" if rng.random() < 0.4 else "",
            joined, sms_at, withdrawn, rng.choice(SOURCES), "VIP" if i % 17 == 0 else "",
        ])
    # What real sheets get wrong, a row each.
    out[10][1] = "customer011example.com"       # the @ forgotten
    out[25][8] = "2023-02-30"                   # no such day
    out[40][5] = "보류"                          # nobody can read this consent
    out[55][1] = out[54][1]                     # the same person twice
    out[70][8] = "2031-01-01"                   # in the future
    out[85][4] = ""                             # the service consent missing
    out[100][3] = "12345"                       # not a phone number
    out[120][0] = out[119][0]                   # the same member number for two people
    return out


def main():
    path = Path(__file__).with_name("customers-cp949.csv")
    lines = [",".join(HEADERS)] + [",".join(row) for row in rows()]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp949"))
    print(f"wrote {path} ({len(lines) - 1} rows, CP949)")


if __name__ == "__main__":
    main()
