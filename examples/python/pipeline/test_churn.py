import unittest

import churn


class ChurnTest(unittest.TestCase):
    def test_features_are_scaled(self):
        row = {"tenure_months": "72", "monthly_charges": "120", "support_calls": "9", "plan": "basic"}
        self.assertEqual(churn.features(row), [1.0, 1.0, 1.0, 1.0, 0.0])

    def test_predict_is_a_probability(self):
        model = {"weights": [100.0] * 5, "bias": 0.0}
        self.assertEqual(churn.predict(model, [1.0] * 5), 1.0)
        self.assertAlmostEqual(churn.predict({"weights": [0.0] * 5, "bias": 0.0}, [1.0] * 5), 0.5)


if __name__ == "__main__":
    unittest.main()
