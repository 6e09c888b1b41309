package weather

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `location,date,precipitation,temp_max,temp_min,wind,weather
Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle
Seattle,2012-01-02,10.9,10.6,2.8,4.5,rain
New York,2012-07-04,0.0,31.1,22.8,3.1,sun
`

func TestReadWriteRoundTrip(t *testing.T) {
	t.Parallel()
	days, err := Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || days[1].Precipitation != 10.9 || days[2].Location != "New York" || days[2].Date.Month() != time.July {
		t.Fatalf("days = %+v", days)
	}
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := WriteFile(path, days); err != nil {
		t.Fatal(err)
	}
	again, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range days {
		if days[i] != again[i] {
			t.Errorf("row %d: %+v, then %+v", i, days[i], again[i])
		}
	}
}

func TestReadRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, csv, wantErr string }{
		{"wrong header", "a,b,c,d,e,f,g\n", `column 1 is "a", want "location"`},
		{"bad number", "location,date,precipitation,temp_max,temp_min,wind,weather\nSeattle,2012-01-01,x,1,1,1,sun\n", `line 2: precipitation: strconv.ParseFloat: parsing "x": invalid syntax`},
		{"bad date", "location,date,precipitation,temp_max,temp_min,wind,weather\nSeattle,01/01/2012,0,1,1,1,sun\n", `line 2: date: parsing time "01/01/2012" as "2006-01-02": cannot parse "01/01/2012" as "2006"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(strings.NewReader(tt.csv))
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

// A separable toy problem: rain when it rains, sun otherwise.
func toyDays() []Day {
	var days []Day
	for i := range 200 {
		d := Day{Location: "Seattle", Date: time.Date(2013, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC),
			TempMax: 10 + float64(i%15), TempMin: 5 + float64(i%7), Wind: 1 + float64(i%5)}
		if i%3 == 0 {
			d.Precipitation, d.Weather = 2+float64(i%9), "rain"
		} else {
			d.Weather = "sun"
		}
		days = append(days, d)
	}
	return days
}

func TestTrainLearnsAndIsDeterministic(t *testing.T) {
	t.Parallel()
	days := toyDays()
	p := Params{LearningRate: 0.5, Epochs: 200, L2: 0.001, Seed: 7}
	m, err := Train(days, p)
	if err != nil {
		t.Fatal(err)
	}
	truth, pred := make([]string, len(days)), make([]string, len(days))
	for i, d := range days {
		truth[i] = d.Weather
		pred[i], _ = m.Predict(d)
	}
	if acc := Accuracy(truth, pred); acc < 0.99 {
		t.Errorf("accuracy on a separable problem = %.3f, want ≥ 0.99", acc)
	}
	again, _ := Train(days, p)
	for c := range m.Weights {
		for j := range m.Weights[c] {
			if m.Weights[c][j] != again.Weights[c][j] {
				t.Fatalf("training twice with seed %d gave different weights", p.Seed)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c1, _ := m.Predict(days[0]); c1 != truth[0] {
		t.Errorf("prediction %s, want %s", c1, truth[0])
	}
	if c2, _ := loaded.Predict(days[1]); c2 != truth[1] {
		t.Errorf("loaded model predicts %s, want %s", c2, truth[1])
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	truth := []string{"sun", "sun", "rain", "fog"}
	pred := []string{"sun", "rain", "rain", "sun"}
	if got := Accuracy(truth, pred); got != 0.5 {
		t.Errorf("accuracy = %v, want 0.5", got)
	}
	// sun: tp1 fp1 fn1 → 0.5; rain: tp1 fp1 → 2/3; fog: 0.
	if got, want := MacroF1(truth, pred, []string{"fog", "rain", "sun"}), (0.5+2.0/3)/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("macro F1 = %v, want %v", got, want)
	}
	if got, want := LogLoss([]int{0, 1}, [][]float64{{0.5, 0.5}, {0, 1}}), math.Log(2)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("log loss = %v, want %v", got, want)
	}
	if got := Percentile([]float64{5, 1, 4, 2, 3}, 95); got != 5 {
		t.Errorf("p95 = %v, want 5", got)
	}
	if got := Percentile([]float64{5, 1, 4, 2, 3}, 40); got != 2 {
		t.Errorf("p40 = %v, want 2", got)
	}
}
