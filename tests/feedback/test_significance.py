"""The alarms' p-values against values found another way: exact sums with math.comb (the
implementation works in logs through lgamma), the t distribution's printed critical values,
and a t statistic worked out by hand."""

import math
from fractions import Fraction

import pytest

from labelhub.feedback import significance


def exact_pmf(i, n, p):
    return Fraction(math.comb(n, i)) * Fraction(p) ** i * (1 - Fraction(p)) ** (n - i)


@pytest.mark.parametrize("k, n", [(9, 10), (1, 10), (5, 10), (15, 20), (0, 7), (60, 100)])
def test_it_gives_the_two_sided_binomial_p_at_one_half_as_twice_the_smaller_tail(k, n):
    smaller_tail = min(sum(exact_pmf(i, n, Fraction(1, 2)) for i in range(k, n + 1)),
                       sum(exact_pmf(i, n, Fraction(1, 2)) for i in range(0, k + 1)))
    expected = min(1, 2 * smaller_tail) if 2 * k != n else 1
    assert significance.binomial_two_sided(k, n, 0.5) == pytest.approx(float(expected), rel=1e-9)


def test_it_gives_nine_of_ten_as_22_in_1024():
    # P(X ≥ 9) = (10 + 1) / 1024, doubled
    assert significance.binomial_two_sided(9, 10) == pytest.approx(22 / 1024, rel=1e-12)


def test_it_sums_every_outcome_no_likelier_than_the_one_seen_when_p_is_not_one_half():
    # n = 5, p = 0.3, k = 0: P(0) = 0.16807; P(3) = 0.1323, P(4) = 0.02835, P(5) = 0.00243 are no likelier
    # (P(1) = 0.36015 and P(2) = 0.3087 are), so p = 0.16807 + 0.1323 + 0.02835 + 0.00243 = 0.33115
    assert significance.binomial_two_sided(0, 5, 0.3) == pytest.approx(0.33115, abs=1e-12)


@pytest.mark.parametrize("k, n, p", [(3, 5, Fraction(1, 24)), (12, 20, Fraction(1, 2)), (20, 20, Fraction(1, 6)), (0, 4, Fraction(1, 3))])
def test_it_gives_the_upper_tail_exactly(k, n, p):
    expected = sum(exact_pmf(i, n, p) for i in range(k, n + 1))
    assert significance.binomial_at_least(k, n, float(p)) == pytest.approx(float(expected), rel=1e-9)


@pytest.mark.parametrize("t, df, p", [
    (2.228, 10, 0.05), (4.032, 5, 0.01), (12.706, 1, 0.05), (2.042, 30, 0.05), (2.750, 30, 0.01), (1.96, math.inf, 0.05),
])
def test_it_matches_the_printed_critical_values_of_t(t, df, p):
    # two-sided critical values as printed in t tables (three decimals)
    assert significance.student_t_two_sided(t, df) == pytest.approx(p, abs=2e-4)


def test_it_works_out_the_one_sample_t_statistic():
    # values 1, 2, 3, 4, 5 against 1: mean 3, variance 2.5, t = 2 / √(2.5 / 5) = 2.8284 with 4 df,
    # between the printed two-sided values for 4 df: 2.776 (p 0.05) and 3.747 (p 0.02)
    t, df, p = significance.one_sample_t_test(3.0, 2.5, 5, 1.0)
    assert (t, df) == (pytest.approx(2 / math.sqrt(0.5)), 4)
    assert 0.02 < p < 0.05
    assert significance.student_t_two_sided(2.776, 4) == pytest.approx(0.05, abs=2e-4)


def test_it_calls_constant_values_certain():
    assert significance.one_sample_t_test(0.5, 0.0, 5, 0.5)[2] == 1.0
    assert significance.one_sample_t_test(1.0, 0.0, 5, -1.0)[2] == 0.0


def test_it_refuses_impossible_counts():
    with pytest.raises(ValueError):
        significance.binomial_two_sided(11, 10)
    with pytest.raises(ValueError):
        significance.one_sample_t_test(0, 1, 1, 0)
