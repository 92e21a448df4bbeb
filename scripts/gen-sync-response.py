#!/usr/bin/env python3
"""Writes a large, realistic EAS Sync response as XML (eastest's XML form).

Usage: scripts/gen-sync-response.py [--contacts N] [--emails N] > sync-response.xml

The defaults (4000 contacts, 5500 emails) give about 5 MB of WBXML once encoded.
Deterministic: the same arguments always give the same document. Only tags that
libwbxml spells as the specification does are used, so libwbxml can process it.
"""
import argparse
import random
from xml.sax.saxutils import escape

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Goran", "Hana", "Ivan", "Jürgen", "Kenji", "Lena"]
LAST = ["Smith", "Okafor", "Müller", "Nakamura", "O'Brien", "Rossi", "Svensson", "Tanaka", "Wójcik", "Zhang"]
WORDS = ("meeting agenda budget review quarterly report the of and to for please find attached "
         "notes project timeline & <draft> update status deadline customer invoice").split()


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def contact(rng, i):
    fn, ln = rng.choice(FIRST), rng.choice(LAST)
    return f"""        <Add>
          <ServerId>1:{i}</ServerId>
          <ApplicationData>
            <Contacts:FileAs>{escape(ln)}, {escape(fn)}</Contacts:FileAs>
            <Contacts:FirstName>{escape(fn)}</Contacts:FirstName>
            <Contacts:LastName>{escape(ln)}</Contacts:LastName>
            <Contacts:Email1Address>"{escape(fn)} {escape(ln)}" &lt;{fn.lower()}.{i}@example.test&gt;</Contacts:Email1Address>
            <Contacts:MobilePhoneNumber>+1 555 {i % 10000:04d}</Contacts:MobilePhoneNumber>
            <Contacts:BusinessPhoneNumber>+1 555 01{i % 100:02d}</Contacts:BusinessPhoneNumber>
            <Contacts:CompanyName>{escape(rng.choice(LAST))} &amp; Sons</Contacts:CompanyName>
            <Contacts:JobTitle>{escape(sentence(rng, 2))}</Contacts:JobTitle>
            <Contacts:OfficeLocation>Building {i % 7}, room {i}</Contacts:OfficeLocation>
            <Contacts:Department>{escape(rng.choice(WORDS))}</Contacts:Department>
            <Contacts:Categories>
              <Contacts:Category>Business</Contacts:Category>
            </Contacts:Categories>
            <Contacts2:NickName>{escape(fn)}{i}</Contacts2:NickName>
            <AirSyncBase:Body>
              <AirSyncBase:Type>1</AirSyncBase:Type>
              <AirSyncBase:EstimatedDataSize>40</AirSyncBase:EstimatedDataSize>
              <AirSyncBase:Data>{escape(sentence(rng, 6))}</AirSyncBase:Data>
            </AirSyncBase:Body>
          </ApplicationData>
        </Add>
"""


def email(rng, i):
    body = "\n".join(sentence(rng, 12) for _ in range(6))
    return f"""        <Add>
          <ServerId>2:{i}</ServerId>
          <ApplicationData>
            <Email:To>"{escape(rng.choice(FIRST))}" &lt;user{i}@example.test&gt;</Email:To>
            <Email:From>"{escape(rng.choice(FIRST))} {escape(rng.choice(LAST))}" &lt;sender{i % 97}@example.test&gt;</Email:From>
            <Email:Subject>{escape(sentence(rng, 5))}</Email:Subject>
            <Email:DateReceived>2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z</Email:DateReceived>
            <Email:DisplayTo>{escape(rng.choice(FIRST))}</Email:DisplayTo>
            <Email:ThreadTopic>{escape(sentence(rng, 4))}</Email:ThreadTopic>
            <Email:Importance>1</Email:Importance>
            <Email:Read>{i % 2}</Email:Read>
            <AirSyncBase:Body>
              <AirSyncBase:Type>1</AirSyncBase:Type>
              <AirSyncBase:EstimatedDataSize>{len(body.encode())}</AirSyncBase:EstimatedDataSize>
              <AirSyncBase:Data>{escape(body)}</AirSyncBase:Data>
            </AirSyncBase:Body>
            <Email:MessageClass>IPM.Note</Email:MessageClass>
            <Email:InternetCPID>65001</Email:InternetCPID>
            <Email:Flag/>
            <AirSyncBase:NativeBodyType>1</AirSyncBase:NativeBodyType>
          </ApplicationData>
        </Add>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=4000)
    ap.add_argument("--emails", type=int, default=5500)
    args = ap.parse_args()
    rng = random.Random(1)
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<Sync xmlns="AirSync:" xmlns:Contacts="Contacts:" xmlns:Contacts2="Contacts2:" '
           'xmlns:Email="Email:" xmlns:AirSyncBase="AirSyncBase:">',
           "  <Collections>"]
    for cid, count, make in (("1", args.contacts, contact), ("2", args.emails, email)):
        out.append("    <Collection>")
        out.append("      <SyncKey>2</SyncKey>")
        out.append(f"      <CollectionId>{cid}</CollectionId>")
        out.append("      <Status>1</Status>")
        out.append("      <Commands>")
        out.extend(make(rng, i).rstrip("\n") for i in range(count))
        out.append("      </Commands>")
        out.append("    </Collection>")
    out.append("  </Collections>")
    out.append("</Sync>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
