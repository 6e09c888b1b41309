package weather

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
)

// FeatureNames are the model's inputs, in order.
var FeatureNames = []string{
	"log_precipitation", "temp_max", "temp_min", "temp_range", "wind",
	"seattle", "month_sin", "month_cos", "wet_and_cold",
}

// Features turns a day into the model's input vector (before scaling).
// Precipitation is log-scaled (it is heavy-tailed); the month is put on a
// circle so December and January are neighbours.
func Features(d Day) []float64 {
	seattle := 0.0
	if d.Location == "Seattle" {
		seattle = 1
	}
	month := 2 * math.Pi * float64(d.Date.Month()-1) / 12
	wetCold := 0.0
	if d.Precipitation > 0 && d.TempMax < 2 {
		wetCold = 1
	}
	return []float64{
		math.Log1p(d.Precipitation), d.TempMax, d.TempMin, d.TempMax - d.TempMin, d.Wind,
		seattle, math.Sin(month), math.Cos(month), wetCold,
	}
}

// Params are the training hyper-parameters.
type Params struct {
	LearningRate float64 `json:"learning_rate"`
	Epochs       int     `json:"epochs"`
	L2           float64 `json:"l2"`
	Seed         uint64  `json:"seed"`
}

// Model is a multinomial logistic regression over standardized features.
type Model struct {
	Classes  []string    `json:"classes"`
	Features []string    `json:"features"`
	Mean     []float64   `json:"mean"`
	Std      []float64   `json:"std"`
	Weights  [][]float64 `json:"weights"` // per class: one weight per feature, then the bias
	Params   Params      `json:"params"`
	Rows     int         `json:"rows"` // training rows
}

// Train fits a model to days with full-batch gradient descent on the
// L2-regularized cross-entropy. It is deterministic for a given seed.
func Train(days []Day, p Params) (*Model, error) {
	if len(days) == 0 {
		return nil, errors.New("no training data")
	}
	if p.LearningRate <= 0 || p.Epochs <= 0 {
		return nil, fmt.Errorf("learning rate and epochs must be positive, got %g and %d", p.LearningRate, p.Epochs)
	}
	m := &Model{Features: FeatureNames, Params: p, Rows: len(days)}
	for _, d := range days {
		if !slices.Contains(m.Classes, d.Weather) {
			m.Classes = append(m.Classes, d.Weather)
		}
	}
	slices.Sort(m.Classes)

	raw := make([][]float64, len(days))
	for i, d := range days {
		raw[i] = Features(d)
	}
	nf := len(FeatureNames)
	m.Mean, m.Std = make([]float64, nf), make([]float64, nf)
	for j := range nf {
		for _, x := range raw {
			m.Mean[j] += x[j]
		}
		m.Mean[j] /= float64(len(raw))
		for _, x := range raw {
			m.Std[j] += (x[j] - m.Mean[j]) * (x[j] - m.Mean[j])
		}
		m.Std[j] = math.Sqrt(m.Std[j] / float64(len(raw)))
		if m.Std[j] == 0 {
			m.Std[j] = 1
		}
	}
	xs := make([][]float64, len(raw))
	for i, x := range raw {
		xs[i] = m.scale(x)
	}
	ys := make([]int, len(days))
	for i, d := range days {
		ys[i], _ = slices.BinarySearch(m.Classes, d.Weather)
	}

	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	k := len(m.Classes)
	m.Weights = make([][]float64, k)
	for c := range k {
		m.Weights[c] = make([]float64, nf+1)
		for j := range m.Weights[c] {
			m.Weights[c][j] = rng.NormFloat64() * 0.01
		}
	}
	grad := make([][]float64, k)
	for c := range grad {
		grad[c] = make([]float64, nf+1)
	}
	probs := make([]float64, k)
	n := float64(len(xs))
	for range p.Epochs {
		for c := range grad {
			clear(grad[c])
		}
		for i, x := range xs {
			m.softmax(x, probs)
			for c := range k {
				g := probs[c]
				if c == ys[i] {
					g--
				}
				for j, v := range x {
					grad[c][j] += g * v
				}
				grad[c][nf] += g
			}
		}
		for c := range k {
			for j := range m.Weights[c] {
				reg := 0.0
				if j < nf {
					reg = p.L2 * m.Weights[c][j]
				}
				m.Weights[c][j] -= p.LearningRate * (grad[c][j]/n + reg)
			}
		}
	}
	return m, nil
}

func (m *Model) scale(raw []float64) []float64 {
	x := make([]float64, len(raw))
	for j, v := range raw {
		x[j] = (v - m.Mean[j]) / m.Std[j]
	}
	return x
}

// softmax writes the class probabilities for the scaled features x.
func (m *Model) softmax(x, probs []float64) {
	nf := len(x)
	best := math.Inf(-1)
	for c, w := range m.Weights {
		z := w[nf]
		for j, v := range x {
			z += w[j] * v
		}
		probs[c] = z
		best = max(best, z)
	}
	sum := 0.0
	for c := range probs {
		probs[c] = math.Exp(probs[c] - best)
		sum += probs[c]
	}
	for c := range probs {
		probs[c] /= sum
	}
}

// Predict returns the most likely class for d and every class's probability.
func (m *Model) Predict(d Day) (string, []float64) {
	probs := make([]float64, len(m.Classes))
	m.softmax(m.scale(Features(d)), probs)
	best := 0
	for c, p := range probs {
		if p > probs[best] {
			best = c
		}
	}
	return m.Classes[best], probs
}

// Save writes the model as JSON.
func (m *Model) Save(path string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Load reads a model Save wrote.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(m.Classes) == 0 || len(m.Weights) != len(m.Classes) || len(m.Mean) != len(FeatureNames) {
		return nil, fmt.Errorf("%s: not a model for these features", path)
	}
	return &m, nil
}
