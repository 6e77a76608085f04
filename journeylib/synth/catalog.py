"""The synthetic product catalogue (96 SKUs in 8 categories) and its planted co-purchase groups.

The catalogue is fixed (it does not depend on the seed), so every chunk of a streamed run sees the
same SKUs and prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.synth.params import CATEGORIES, PERSONA_CATEGORY_PREF, PERSONA_PARAMS

_CODES = ("ELK", "FSH", "KCN", "RMT", "MKN", "OLR", "IBY", "OTO")

# (name, price in IDR) per category, 12 items each.
_ITEMS: dict[str, tuple[tuple[str, int], ...]] = {
    "elektronik": (
        ("Smartphone Android 128GB", 2_899_000),
        ("Casing HP Silikon", 49_000),
        ("Pelindung Layar Tempered Glass", 35_000),
        ("Laptop 14 inci Core i5", 8_499_000),
        ("Mouse Wireless", 129_000),
        ("Earphone Bluetooth TWS", 249_000),
        ("Powerbank 10000mAh", 199_000),
        ("Kabel Data USB-C", 39_000),
        ("Smartwatch Sport", 599_000),
        ("Speaker Bluetooth Mini", 179_000),
        ("Charger Fast Charging 33W", 119_000),
        ("Smart TV 43 inci", 3_799_000),
    ),
    "fashion": (
        ("Kemeja Batik Pria", 189_000),
        ("Celana Chino Slim Fit", 159_000),
        ("Kaos Polos Cotton Combed", 59_000),
        ("Hijab Voal Motif", 45_000),
        ("Gamis Wanita Katun", 229_000),
        ("Sandal Jepit Karet", 29_000),
        ("Sneakers Kanvas", 279_000),
        ("Tas Selempang Wanita", 139_000),
        ("Jaket Hoodie Fleece", 169_000),
        ("Dompet Kulit Pria", 99_000),
        ("Kaus Kaki Isi 3", 35_000),
        ("Topi Baseball", 55_000),
    ),
    "kecantikan": (
        ("Shampoo Anti Ketombe 340ml", 42_000),
        ("Conditioner Rambut 320ml", 45_000),
        ("Serum Vitamin C 20ml", 89_000),
        ("Sunscreen SPF 50 50ml", 75_000),
        ("Lipstik Matte", 65_000),
        ("Facial Wash 100ml", 32_000),
        ("Toner Wajah 150ml", 58_000),
        ("Masker Wajah Sheet Isi 5", 40_000),
        ("Parfum Eau de Toilette 50ml", 189_000),
        ("Body Lotion 250ml", 38_000),
        ("Cushion Foundation", 129_000),
        ("Micellar Water 200ml", 49_000),
    ),
    "rumah_tangga": (
        ("Rice Cooker 1.8L", 399_000),
        ("Set Panci Anti Lengket", 349_000),
        ("Sapu Ijuk", 35_000),
        ("Pengki Plastik", 19_000),
        ("Dispenser Air Galon", 289_000),
        ("Sprei Katun Queen", 179_000),
        ("Rak Piring Stainless", 149_000),
        ("Blender 2 Tabung", 259_000),
        ("Lampu LED 12W Isi 4", 79_000),
        ("Kipas Angin Berdiri", 229_000),
        ("Deterjen Cair 1.6L", 39_000),
        ("Pewangi Pakaian 1.8L", 32_000),
    ),
    "makanan_minuman": (
        ("Kopi Bubuk Robusta 200g", 38_000),
        ("Krimer Kental Manis 370g", 14_000),
        ("Beras Premium 5kg", 79_000),
        ("Minyak Goreng 2L", 38_000),
        ("Mie Instan Goreng Isi 5", 15_500),
        ("Teh Celup Isi 25", 9_500),
        ("Gula Pasir 1kg", 17_500),
        ("Sambal Botol 335ml", 21_000),
        ("Madu Murni 500g", 89_000),
        ("Keripik Singkong Pedas", 18_000),
        ("Susu UHT 1L", 19_500),
        ("Air Mineral 600ml Isi 24", 52_000),
    ),
    "olahraga": (
        ("Sepatu Lari Pria", 499_000),
        ("Kaos Kaki Olahraga", 39_000),
        ("Matras Yoga 6mm", 129_000),
        ("Dumbbell 5kg Sepasang", 189_000),
        ("Botol Minum Sport 1L", 59_000),
        ("Raket Badminton", 259_000),
        ("Kok Badminton Isi 12", 85_000),
        ("Jersey Sepak Bola", 149_000),
        ("Bola Futsal", 179_000),
        ("Tas Gym", 119_000),
        ("Resistance Band Set", 79_000),
        ("Tali Skipping", 35_000),
    ),
    "ibu_bayi": (
        ("Popok Bayi Pants L Isi 30", 89_000),
        ("Tisu Basah Bayi Isi 50", 18_000),
        ("Susu Formula 800g", 219_000),
        ("Botol Susu Bayi 250ml", 69_000),
        ("Minyak Telon 60ml", 27_000),
        ("Bedak Bayi 200g", 15_000),
        ("Stroller Lipat", 899_000),
        ("Gendongan Bayi", 159_000),
        ("Baju Bayi Set Isi 3", 99_000),
        ("Sabun Bayi Cair 200ml", 24_000),
        ("Mainan Edukasi Bayi", 79_000),
        ("Alas Ompol Waterproof", 45_000),
    ),
    "otomotif": (
        ("Oli Mesin Motor 1L", 55_000),
        ("Filter Oli Motor", 28_000),
        ("Helm Half Face SNI", 249_000),
        ("Ban Motor Tubeless", 229_000),
        ("Aki Motor Kering", 219_000),
        ("Sarung Jok Motor", 49_000),
        ("Lampu LED Motor", 69_000),
        ("Jas Hujan Setelan", 89_000),
        ("Shampoo Mobil 1L", 35_000),
        ("Kanebo Lap Mobil", 25_000),
        ("Parfum Mobil", 39_000),
        ("Kunci Busi Set", 59_000),
    ),
}


def _sku(cat: str, i: int) -> str:
    return f"{_CODES[CATEGORIES.index(cat)]}-{i + 1:03d}"


#: Planted co-purchase groups (bought together in the same order far above chance; a member left
#: out is often bought in the customer's next order).
CO_PURCHASE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ELK-001", "ELK-002", "ELK-003"),  # smartphone + case + screen protector
    ("ELK-004", "ELK-005"),  # laptop + wireless mouse
    ("KCN-001", "KCN-002"),  # shampoo + conditioner
    ("KCN-003", "KCN-004"),  # vitamin C serum + sunscreen
    ("RMT-003", "RMT-004"),  # broom + dustpan
    ("MKN-001", "MKN-002"),  # coffee + sweetened creamer
    ("OLR-001", "OLR-002"),  # running shoes + sports socks
    ("IBY-001", "IBY-002"),  # diapers + baby wipes
    ("OTO-001", "OTO-002"),  # motor oil + oil filter
    ("FSH-001", "FSH-002"),  # batik shirt + chinos
)


@dataclass(frozen=True)
class Catalog:
    """The catalogue as arrays for the simulator plus the ``products`` frame.

    Attributes
    ----------
    products : DataFrame
        One row per SKU: ``sku``, ``name``, ``category``, ``price``.
    category : ndarray
        Category index per SKU.
    price : ndarray
        Price (IDR, int64) per SKU.
    partners : ndarray
        ``(n_sku, 2)`` co-purchase partner SKU indices, -1 where none.
    persona_cum : ndarray
        ``(n_persona, n_sku)`` cumulative SKU choice probabilities per persona.
    """

    products: pd.DataFrame
    category: np.ndarray
    price: np.ndarray
    partners: np.ndarray
    persona_cum: np.ndarray

    def sample(self, persona: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Draw one SKU index per row from the persona's preference distribution."""
        cum = self.persona_cum[persona]
        return np.minimum((cum < u[:, None]).sum(axis=1), cum.shape[1] - 1)


def build_catalog() -> Catalog:
    """Build the fixed catalogue and the persona SKU-choice distributions.

    Returns
    -------
    Catalog
        SKUs ordered by category then item number.
    """
    rows = [
        (_sku(cat, i), name, cat, price)
        for cat in CATEGORIES
        for i, (name, price) in enumerate(_ITEMS[cat])
    ]
    products = pd.DataFrame(rows, columns=["sku", "name", "category", "price"])
    category = np.array([CATEGORIES.index(c) for c in products["category"]])
    price = products["price"].to_numpy(dtype=np.int64)
    index = {s: i for i, s in enumerate(products["sku"])}
    partners = np.full((len(products), 2), -1, dtype=np.int64)
    for group in CO_PURCHASE_GROUPS:
        ids = [index[s] for s in group]
        for a in ids:
            others = [b for b in ids if b != a]
            partners[a, : len(others)] = others
    # persona weight of a SKU: category preference x (price relative to its category) ** -elasticity
    rel_price = price / np.array([np.median(price[category == c]) for c in category])
    weights = PERSONA_CATEGORY_PREF[:, category] * rel_price[None, :] ** (
        -PERSONA_PARAMS["price_elasticity"][:, None]
    )
    # normalise within category so price sensitivity moves choices inside a category only
    for c in range(len(CATEGORIES)):
        m = category == c
        weights[:, m] *= PERSONA_CATEGORY_PREF[:, [c]] / weights[:, m].sum(axis=1, keepdims=True)
    probs = weights / weights.sum(axis=1, keepdims=True)
    return Catalog(products, category, price, partners, np.cumsum(probs, axis=1))
