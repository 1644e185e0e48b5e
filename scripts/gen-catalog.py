#!/usr/bin/env python3
"""Generate the product catalog seed data for the `products` service.

Writes a JSON array of 300 fictional fashion products (apparel, footwear,
accessories, personal care) to stdout. The output is deterministic (seeded with
random.Random(42)) and is committed as services/products/data/catalog.json,
which the products service loads on first start. Regenerate with:

    python3 scripts/gen-catalog.py > services/products/data/catalog.json

Prices are integer cents in USD. All prices are <= 199999 except exactly three
luxury watches priced between 520000 and 990000 cents (they exercise the
payment limit). Stock: 5 items out of stock, 10 with 1-5 units left.
Brands are fictional. Stdlib only.
"""
import json
import random
import sys

BRANDS = [
    "Northwind", "Atelier Rue", "Kinfolk & Co", "Brightline", "Saltmarsh",
    "Harbor & Pine", "Copperfield", "Linden Row", "Ashgrove", "Meridian Supply",
    "Fenwick", "Tallow & Twine", "Westerly", "Oakhaven", "Bluestem",
    "Marlowe Studio", "Ridgeback", "Cinder & Sage", "Foxglove", "Parkline",
]

COLORS = ["black", "navy", "olive", "charcoal", "sand", "burgundy", "ivory",
          "slate blue", "tan", "forest green", "grey marl", "rust"]

# subCategory -> (category, count, [(name, price_lo, price_hi, description)])
CATALOG = {
    "Topwear": ("Apparel", 40, [
        ("Slim Fit Oxford Shirt", 3999, 8999, "A slim-fit shirt in brushed cotton Oxford cloth with a button-down collar."),
        ("Linen Camp Collar Shirt", 3999, 7999, "A relaxed short-sleeve shirt in breathable washed linen for warm days."),
        ("Classic Denim Shirt", 4499, 8499, "A regular-fit shirt in mid-weight indigo denim with twin chest pockets."),
        ("Flannel Check Shirt", 3499, 6999, "A soft brushed-cotton flannel shirt with a classic check pattern."),
        ("Crew Neck Cotton T-Shirt", 1499, 3499, "An everyday crew neck tee in soft combed organic cotton jersey."),
        ("Striped Breton Top", 2999, 5999, "A boat-neck top in heavyweight cotton with nautical stripes."),
        ("Merino Crew Sweater", 5999, 12999, "A fine-gauge crew neck sweater knitted from extra-fine merino wool."),
        ("Pique Polo Shirt", 2999, 6499, "A short-sleeve polo in cotton pique with a ribbed collar."),
        ("Heavyweight Hoodie", 4999, 9999, "A loopback cotton fleece hoodie with a lined hood and kangaroo pocket."),
        ("Silk Blend Blouse", 5999, 12999, "A fluid blouse in a silk blend with a concealed placket and soft drape."),
    ]),
    "Bottomwear": ("Apparel", 30, [
        ("Slim Fit Stretch Jeans", 4999, 11999, "Slim-fit jeans in stretch selvedge denim with a mid rise."),
        ("Straight Leg Jeans", 4999, 10999, "Straight-leg jeans in rigid 13oz denim that softens with wear."),
        ("Relaxed Tapered Jeans", 5499, 11999, "Relaxed jeans with a tapered leg cut from washed organic denim."),
        ("Stretch Cotton Chinos", 3999, 8999, "Tailored chinos in stretch cotton twill for all-day comfort."),
        ("Pleated Wool Trousers", 7999, 15999, "Single-pleat trousers in tropical wool with a high waist."),
        ("Drawstring Linen Shorts", 2999, 5999, "Lightweight linen shorts with an elasticated drawstring waist."),
        ("Cargo Utility Pants", 4999, 9999, "Utility pants in ripstop cotton with bellowed cargo pockets."),
        ("Jogger Sweatpants", 3499, 6999, "Tapered joggers in brushed-back fleece with ribbed cuffs."),
        ("Pleated Midi Skirt", 4499, 9999, "A flowing midi skirt with knife pleats and a hidden side zip."),
    ]),
    "Dress": ("Apparel", 18, [
        ("Wrap Midi Dress", 5999, 14999, "A wrap dress in printed viscose crepe with a tie waist and midi length."),
        ("Linen Shirt Dress", 6999, 13999, "A belted shirt dress in garment-dyed linen with roll-up sleeves."),
        ("Knit Sweater Dress", 6999, 14999, "A ribbed sweater dress in a soft wool blend with a mock neck."),
        ("Satin Slip Dress", 7999, 17999, "A bias-cut slip dress in fluid satin with adjustable straps."),
        ("Tiered Cotton Sundress", 4999, 9999, "A tiered sundress in airy cotton voile with smocked straps."),
    ]),
    "Innerwear": ("Apparel", 14, [
        ("Cotton Crew Socks 3-Pack", 599, 1499, "Three pairs of cushioned crew socks in combed cotton with reinforced heels."),
        ("Merino Hiking Socks", 999, 1499, "Mid-weight merino wool socks with arch support for long walks."),
        ("Stretch Cotton Boxer Briefs 3-Pack", 1999, 3999, "Three boxer briefs in breathable stretch cotton with a soft waistband."),
        ("Modal Lounge Set", 3999, 7999, "A two-piece lounge set in silky modal jersey for sleeping and lounging."),
        ("Seamless Bralette", 1999, 3999, "A wire-free bralette in seamless stretch knit with removable pads."),
    ]),
    "Outerwear": ("Apparel", 28, [
        ("Waxed Cotton Field Jacket", 12999, 24999, "A field jacket in waxed cotton canvas with a corduroy collar and four pockets."),
        ("Quilted Down Puffer Jacket", 14999, 29999, "A hip-length puffer insulated with responsibly sourced down."),
        ("Wool Blend Overcoat", 17999, 39999, "A single-breasted overcoat in a heavy wool blend, cut to wear over tailoring."),
        ("Lightweight Rain Jacket", 7999, 15999, "A packable rain jacket with taped seams and a waterproof breathable shell."),
        ("Denim Trucker Jacket", 6999, 12999, "A classic trucker jacket in rigid indigo denim with button chest pockets."),
        ("Leather Biker Jacket", 24999, 49999, "An asymmetric biker jacket in soft lambskin leather with silver-tone zips."),
        ("Cotton Trench Coat", 14999, 29999, "A double-breasted trench in water-repellent cotton gabardine with a belted waist."),
    ]),
    "Shoes": ("Footwear", 30, [
        ("Leather Low-Top Sneakers", 7999, 15999, "Minimal low-top sneakers in full-grain leather on a stitched rubber cupsole."),
        ("Canvas Court Sneakers", 3999, 7999, "Classic court sneakers in cotton canvas with a vulcanised sole."),
        ("Knit Running Sneakers", 8999, 15999, "Lightweight running sneakers with a breathable knit upper and foam midsole."),
        ("Suede Trail Sneakers", 8999, 16999, "Trail-inspired sneakers in suede and mesh with a grippy lugged outsole."),
        ("Leather Penny Loafers", 9999, 22999, "Penny loafers in polished calf leather with a leather sole."),
        ("Suede Derby Shoes", 11999, 24999, "Unstructured derby shoes in brushed suede on a crepe sole."),
        ("Canvas Boat Shoes", 5999, 9999, "Boat shoes in washed canvas with a siped non-marking sole."),
        ("Leather Ballet Flats", 6999, 14999, "Soft ballet flats in nappa leather with a cushioned insole."),
    ]),
    "Sandals": ("Footwear", 14, [
        ("Leather Slide Sandals", 4999, 11999, "Slide sandals with a wide leather strap and a contoured cork footbed."),
        ("Strappy Block Heel Sandals", 6999, 14999, "Strappy sandals in smooth leather on a stable mid-height block heel."),
        ("Sport Trek Sandals", 4999, 8999, "Adjustable webbing sandals with a cushioned footbed for trail and water."),
        ("Braided Leather Sandals", 5999, 12999, "Flat sandals with hand-braided leather straps and a buckle ankle strap."),
    ]),
    "Boots": ("Footwear", 18, [
        ("Leather Chelsea Boots", 12999, 27999, "Chelsea boots in oiled leather with elastic side gussets and a Goodyear-welted sole."),
        ("Suede Chukka Boots", 9999, 19999, "Two-eyelet chukka boots in water-resistant suede on a crepe sole."),
        ("Lace-Up Work Boots", 14999, 29999, "Moc-toe work boots in rugged leather with a cushioned wedge sole."),
        ("Waterproof Hiking Boots", 12999, 24999, "Hiking boots with a waterproof membrane, ankle support and a lugged outsole."),
        ("Shearling-Lined Winter Boots", 11999, 22999, "Warm winter boots lined with shearling and a slip-resistant rubber sole."),
        ("Knee-High Leather Boots", 17999, 29999, "Knee-high boots in supple leather with an inside zip and a low heel."),
    ]),
    "Flip Flops": ("Footwear", 8, [
        ("Rubber Flip Flops", 1499, 2999, "Classic flip flops in soft natural rubber with a textured footbed."),
        ("Contoured Comfort Flip Flops", 2499, 4499, "Flip flops with an arch-supporting contoured foam footbed."),
        ("Leather Strap Flip Flops", 2999, 5999, "Flip flops with a leather toe post and a lightweight EVA sole."),
    ]),
    "Watches": ("Accessories", 15, [
        ("Automatic Dive Watch", 19999, 49999, "A 200m dive watch with an automatic movement, unidirectional bezel and sapphire crystal."),
        ("Minimalist Leather Strap Watch", 4999, 14999, "A slim quartz watch with a clean dial and an Italian leather strap."),
        ("Chronograph Steel Watch", 14999, 39999, "A stainless steel chronograph watch with a tachymeter scale and a link bracelet."),
        ("Field Watch", 7999, 19999, "A rugged field watch with a luminous dial and a canvas NATO strap."),
        ("Mesh Bracelet Watch", 6999, 15999, "A quartz dress watch on a fine stainless steel mesh bracelet."),
        ("Digital Sport Watch", 4999, 9999, "A shock-resistant digital sport watch with stopwatch, alarm and backlight."),
    ]),
    "Bags": ("Accessories", 18, [
        ("Leather Tote Bag", 9999, 24999, "A roomy tote bag in pebbled leather with an internal zip pocket."),
        ("Canvas Messenger Bag", 5999, 12999, "A messenger bag in waxed canvas with a padded laptop sleeve."),
        ("Leather Crossbody Bag", 7999, 19999, "A compact crossbody bag in smooth leather with an adjustable strap."),
        ("Nylon Travel Backpack", 6999, 14999, "A water-resistant nylon backpack with a clamshell opening and laptop pocket."),
        ("Weekender Duffel Bag", 11999, 29999, "A weekender duffel bag in heavy canvas with leather trims and a shoe compartment."),
        ("Woven Straw Beach Bag", 3999, 7999, "A hand-woven straw beach bag with leather handles."),
    ]),
    "Belts": ("Accessories", 8, [
        ("Full-Grain Leather Belt", 3999, 8999, "A 35mm belt in vegetable-tanned full-grain leather with a brass buckle."),
        ("Braided Stretch Belt", 2999, 5999, "A woven stretch belt with a leather-trimmed buckle for a flexible fit."),
        ("Reversible Dress Belt", 4999, 9999, "A reversible leather dress belt, black on one side and brown on the other."),
    ]),
    "Jewellery": ("Accessories", 10, [
        ("Sterling Silver Chain Necklace", 4999, 14999, "A fine curb-link chain necklace in solid sterling silver."),
        ("Gold Vermeil Hoop Earrings", 3999, 9999, "Small hoop earrings in 18k gold vermeil over sterling silver."),
        ("Signet Ring", 5999, 19999, "A polished signet ring in sterling silver with a flat oval face."),
        ("Beaded Bracelet", 1999, 4999, "A stretch bracelet of natural stone beads with a silver spacer."),
    ]),
    "Eyewear": ("Accessories", 8, [
        ("Polarized Aviator Sunglasses", 7999, 19999, "Metal-frame aviator sunglasses with polarized, UV400-protected lenses."),
        ("Acetate Round Sunglasses", 8999, 17999, "Round sunglasses in hand-polished acetate with gradient lenses."),
        ("Blue Light Reading Glasses", 2999, 6999, "Lightweight reading glasses with blue light filtering lenses."),
    ]),
    "Wallets": ("Accessories", 8, [
        ("Leather Bifold Wallet", 3999, 8999, "A slim bifold wallet in full-grain leather with six card slots."),
        ("Card Holder Wallet", 2499, 5999, "A minimalist card holder in pebbled leather with a central pocket."),
        ("Zip-Around Wallet", 4999, 11999, "A zip-around wallet in saffiano leather with a coin compartment."),
    ]),
    "Fragrance": ("Personal Care", 12, [
        ("Cedar & Vetiver Eau de Parfum", 5999, 14999, "A woody eau de parfum with notes of cedarwood, vetiver and bergamot. 50ml."),
        ("Fig Leaf Eau de Toilette", 4999, 9999, "A fresh green eau de toilette with fig leaf, cassis and white musk. 100ml."),
        ("Amber Oud Eau de Parfum", 7999, 19999, "A warm, resinous eau de parfum built on amber, oud and vanilla. 50ml."),
        ("Citrus Neroli Cologne", 3999, 8999, "A bright cologne of neroli, lemon and petitgrain for everyday wear. 100ml."),
    ]),
    "Skin Care": ("Personal Care", 10, [
        ("Daily Moisturizer SPF 30", 1999, 4499, "A lightweight daily moisturizer with broad-spectrum SPF 30 and niacinamide. 50ml."),
        ("Hydrating Face Serum", 2999, 6999, "A hyaluronic acid serum that hydrates and plumps all skin types. 30ml."),
        ("Gentle Foaming Cleanser", 1499, 2999, "A low-pH foaming cleanser with green tea extract for daily use. 150ml."),
        ("Overnight Repair Cream", 3499, 7999, "A rich overnight cream with ceramides and squalane to restore the skin barrier. 50ml."),
    ]),
    "Grooming": ("Personal Care", 8, [
        ("Beard Oil", 1499, 2999, "A conditioning beard oil with jojoba and argan oils and a light cedar scent. 30ml."),
        ("Matte Hair Clay", 1499, 2999, "A strong-hold, low-shine hair clay with kaolin and beeswax. 75g."),
        ("Safety Razor Shave Kit", 3999, 8999, "A chrome safety razor with shaving cream and a badger-free brush."),
        ("Charcoal Body Wash", 999, 1999, "A purifying body wash with activated charcoal and peppermint. 300ml."),
    ]),
}

# Exactly three luxury watches above the payment limit (520000-990000 cents).
LUXURY_WATCHES = [
    ("Perpetual Calendar Gold Watch", "An 18k rose gold watch with a perpetual calendar complication and a hand-finished movement."),
    ("Tourbillon Skeleton Watch", "A platinum-cased tourbillon watch with a skeletonised dial showing its hand-wound movement."),
    ("Grand Complication Chronograph Watch", "A white gold split-seconds chronograph with minute repeater and alligator leather strap."),
]

SECOND_SENTENCE = {
    "Apparel": ["Shown in {c}.", "Available in {c}; machine washable.", "Cut true to size, in {c}."],
    "Footwear": ["Shown in {c}.", "Available in {c}; fits true to size.", "Finished in {c}."],
    "Accessories": ["Shown in {c}.", "Finished in {c}.", "Comes in a gift box, in {c}."],
    "Personal Care": ["Made without parabens.", "Suitable for daily use.", "Dermatologist tested."],
}


def price_between(rng, lo, hi):
    """Random price in cents ending in 99, within [lo, hi]."""
    return rng.randint(lo // 100, hi // 100) * 100 + 99


def build(rng):
    products, seen = [], set()
    for sub, (cat, count, templates) in CATALOG.items():
        made = 0
        while made < count:
            name, lo, hi, desc = rng.choice(templates)
            brand = rng.choice(BRANDS)
            if (brand, name) in seen:
                continue
            seen.add((brand, name))
            extra = rng.choice(SECOND_SENTENCE[cat]).format(c=rng.choice(COLORS))
            products.append({"name": name, "brand": brand, "category": cat,
                             "subCategory": sub, "description": f"{desc} {extra}",
                             "price": price_between(rng, lo, hi)})
            made += 1
        if sub == "Watches":
            for name, desc in LUXURY_WATCHES:
                brand = rng.choice([b for b in BRANDS if (b, name) not in seen])
                seen.add((brand, name))
                products.append({"name": name, "brand": brand, "category": cat,
                                 "subCategory": sub, "description": desc,
                                 "price": price_between(rng, 520000, 989999)})
    rng.shuffle(products)

    # Stock: mostly 20-300, a few well-stocked, 5 sold out, 10 nearly sold out.
    stock = [rng.randint(20, 300) if rng.random() < 0.93 else rng.randint(301, 500)
             for _ in products]
    special = rng.sample(range(len(products)), 15)
    for i in special[:5]:
        stock[i] = 0
    for i in special[5:]:
        stock[i] = rng.randint(1, 5)

    out = []
    for i, p in enumerate(products, start=1):
        pid = f"p-{i:04d}"
        out.append({
            "productId": pid, "name": p["name"], "brand": p["brand"],
            "category": p["category"], "subCategory": p["subCategory"],
            "description": p["description"], "price": p["price"],
            "currency": "USD", "stockQty": stock[i - 1],
            "imageUrl": f"https://images.shop.example/products/{pid}.jpg",
        })
    return out


def main():
    catalog = build(random.Random(42))
    sys.stdout.write(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
