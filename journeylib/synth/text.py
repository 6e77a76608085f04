"""Fake personal data (names, e-mails, phones) and short feedback texts in English or Indonesian.

All names, addresses and numbers are invented; they only *look* realistic so the loader's PII
dropping and text redaction can be exercised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST_NAMES = (
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu", "Dimas", "Rina", "Fajar",
    "Nur", "Eko", "Indah", "Hendra", "Sri", "Yusuf", "Lestari", "Bayu", "Wulan", "Arif", "Fitri",
    "Joko", "Maya", "Reza", "Nadia", "Teguh", "Anisa", "Galih", "Citra", "Wahyu", "Intan",
    "Fikri", "Ratna", "Hadi", "Mega", "Ilham", "Dian", "Rudi", "Kartika", "Made", "Ketut",
    "Nyoman", "Wayan", "Ahmad", "Aulia", "Taufik", "Yuni", "Bambang", "Sari",
)  # fmt: skip
LAST_NAMES = (
    "Santoso", "Wijaya", "Saputra", "Pratama", "Hidayat", "Kusuma", "Nugroho", "Setiawan",
    "Siregar", "Nasution", "Lubis", "Harahap", "Simanjuntak", "Wibowo", "Purnomo", "Gunawan",
    "Halim", "Susanto", "Rahman", "Hakim", "Syahputra", "Permana", "Utami", "Lestari", "Putra",
    "Ramadhan", "Firmansyah", "Kurniawan", "Hutapea", "Pangaribuan", "Daeng", "Mappasessu",
    "Tanjung", "Sembiring", "Ginting", "Manurung", "Sinaga", "Wardana", "Sudirman", "Hartono",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com")
#: Indonesian mobile prefixes (Telkomsel, Indosat, XL, Tri, Smartfren).
PHONE_PREFIXES = (
    "811", "812", "813", "821", "822", "823", "852", "853", "814", "815", "816", "855",
    "856", "857", "858", "817", "818", "819", "859", "877", "878", "895", "896", "897",
    "898", "899", "881", "882", "887",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Feedback comments, keyed by topic. Friction topics always name the cause in plain words
# ("late delivery" / "pengiriman terlambat", "payment failed" / "pembayaran gagal", ...).
# ---------------------------------------------------------------------------------------------
TOPICS: tuple[str, ...] = (
    "delivery_late",
    "payment_error",
    "checkout_error",
    "return_request",
    "support_bad",
    "product_bad",
    "neutral",
    "positive",
    "positive_delivery",
    "social_positive",
)
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "delivery_late": (
            "late delivery again, the package arrived 5 days after the estimate",
            "very disappointed, late delivery and no tracking update",
            "late delivery, courier kept saying it was on the way",
            "product ok but late delivery ruined it",
        ),
        "payment_error": (
            "payment failed twice and the money was deducted",
            "payment failed with my e-wallet, had to use bank transfer",
            "checkout was fine but payment failed at the last step",
        ),
        "checkout_error": (
            "app kept crashing at checkout, could not finish my order",
            "checkout error on the app, tried many times",
            "the checkout button does nothing on my phone",
        ),
        "return_request": (
            "wrong size sent, return process is slow",
            "item not as described, I asked for a refund",
            "had to return the product, quality is poor",
        ),
        "support_bad": (
            "customer service took too long to reply",
            "support chat was not helpful",
        ),
        "product_bad": (
            "quality is below expectation",
            "not worth the price",
            "packaging was damaged",
        ),
        "neutral": (
            "ok, nothing special",
            "average experience",
            "product is fine, delivery normal",
            "decent but could be cheaper",
        ),
        "positive": (
            "great quality and good price",
            "very satisfied, will buy again",
            "original product, recommended seller",
            "love it, exactly as described",
            "good value, fast response from seller",
        ),
        "positive_delivery": (
            "fast delivery, arrived the next day",
            "well packed and fast shipping",
        ),
        "social_positive": (
            "just got my order, so happy with it",
            "best promo this payday sale",
        ),
    },
    "id": {
        "delivery_late": (
            "pengiriman terlambat lagi, paket datang 5 hari lewat estimasi",
            "kecewa banget, pengiriman terlambat dan resi tidak update",
            "pengiriman terlambat, kurir bilang masih di jalan terus",
            "barang oke tapi pengiriman terlambat",
        ),
        "payment_error": (
            "pembayaran gagal dua kali padahal saldo terpotong",
            "pembayaran gagal pakai e-wallet, terpaksa transfer bank",
            "checkout lancar tapi pembayaran gagal di langkah terakhir",
        ),
        "checkout_error": (
            "aplikasi error terus waktu checkout, pesanan tidak bisa selesai",
            "checkout error di aplikasi, sudah coba berkali-kali",
            "tombol checkout tidak berfungsi di hp saya",
        ),
        "return_request": (
            "ukuran salah kirim, proses retur lambat",
            "barang tidak sesuai deskripsi, saya minta refund",
            "terpaksa retur, kualitas jelek",
        ),
        "support_bad": (
            "customer service lama sekali balasnya",
            "chat CS tidak membantu",
        ),
        "product_bad": (
            "kualitas di bawah ekspektasi",
            "tidak sebanding dengan harganya",
            "kemasan rusak",
        ),
        "neutral": (
            "oke, biasa saja",
            "lumayan",
            "barang sesuai, pengiriman normal",
            "cukup bagus tapi bisa lebih murah",
        ),
        "positive": (
            "kualitas bagus dan harga murah",
            "puas banget, bakal beli lagi",
            "barang original, seller rekomended",
            "suka banget, sesuai deskripsi",
            "mantap, respon seller cepat",
        ),
        "positive_delivery": (
            "pengiriman cepat, besoknya sudah sampai",
            "packing rapi dan pengiriman cepat",
        ),
        "social_positive": (
            "paket sudah sampai, senang banget",
            "promo gajian terbaik",
        ),
    },
}
PII_SUFFIX = {"en": (" contact me at {email}", " call me {phone}"), "id": (" hubungi {email}", " wa saya {phone}")}  # fmt: skip


def fake_people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Fake Indonesian names, e-mails and phone numbers.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream (consumed deterministically).
    n : int
        Number of people.

    Returns
    -------
    DataFrame
        Columns ``full_name``, ``email``, ``phone``; one row per person.
    """
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    mononym = rng.random(n) < 0.12  # single names are common in Indonesia
    full = np.where(mononym, first, first + " " + last)
    sep = np.array([".", "_", ""], dtype=object)[rng.integers(0, 3, n)]
    num = rng.integers(1, 9999, n).astype(str).astype(object)
    num = np.where(rng.random(n) < 0.35, "", num)
    local = np.where(mononym, first + num, first + sep + last + num)
    domain = np.array(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    email = pd.Series(local + "@" + domain).str.lower().to_numpy(dtype=object)
    pre = np.array(PHONE_PREFIXES, dtype=object)[rng.integers(0, len(PHONE_PREFIXES), n)]
    a = pd.Series(rng.integers(0, 10_000, n)).astype(str).str.zfill(4).to_numpy(dtype=object)
    b = pd.Series(rng.integers(0, 10_000, n)).astype(str).str.zfill(4).to_numpy(dtype=object)
    style = rng.random(n)
    phone = np.where(
        style < 0.6,
        "+62 " + pre + "-" + a + "-" + b,
        np.where(style < 0.85, "0" + pre + a + b, "62" + pre + a + b),
    )
    return pd.DataFrame({"full_name": full, "email": email, "phone": phone})


def comments(
    rng: np.random.Generator,
    topic: np.ndarray,
    language: str,
    email: np.ndarray,
    phone: np.ndarray,
    pii_prob: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one comment per row for the given topic indices (into :data:`TOPICS`; -1 = none).

    Returns
    -------
    tuple of ndarray
        The comments (object array) and a boolean mask of rows with planted PII.
    """
    bank = COMMENTS[language]
    out = np.empty(len(topic), dtype=object)
    u = rng.random(len(topic))
    for t, name in enumerate(TOPICS):
        m = topic == t
        opts = np.array(bank[name], dtype=object)
        out[m] = opts[np.minimum((u[m] * len(opts)).astype(np.int64), len(opts) - 1)]
    # exactly round(pii_prob * n) rows (at least one) so small samples always carry some PII
    has_text = np.flatnonzero(topic >= 0)
    k = min(has_text.size, max(1, int(round(pii_prob * has_text.size))))
    pii = np.zeros(len(topic), dtype=bool)
    pii[rng.choice(has_text, k, replace=False)] = True
    use_phone = rng.random(len(topic)) < 0.5
    for k, fmt in enumerate(PII_SUFFIX[language]):
        m = pii & (use_phone == bool(k))
        for i in np.flatnonzero(m):  # ~1% of rows: a plain loop is fine here
            out[i] = out[i] + fmt.format(email=email[i], phone=phone[i])
    return out, pii
