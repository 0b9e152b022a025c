from collections import Counter

from core.codes import ALPHABET, random_code


def test_codes_have_the_length_and_only_the_alphabet():
    codes = [random_code(10) for _ in range(2_000)]
    assert {len(code) for code in codes} == {10}
    assert set("".join(codes)) <= set(ALPHABET)
    assert len(set(codes)) == 2_000


def test_every_code_of_a_small_space_comes_up_about_as_often():
    # 2 letters, 3 places: 8 codes, 8,000 draws, about 1,000 each.
    counts = Counter(random_code(3, "AB") for _ in range(8_000))
    assert len(counts) == 8
    assert all(800 < count < 1_200 for count in counts.values()), counts
