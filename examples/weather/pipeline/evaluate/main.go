// Command evaluate scores the model on the held-out year and writes the
// metrics podium's gate compares: accuracy, macro_f1, log_loss,
// accuracy_by_location.<city> and latency_ms.p95 (one prediction, timed).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/podium-ml/podium/examples/weather/pipeline/weather"
)

func main() {
	modelDir := flag.String("model", "model", "the model directory")
	data := flag.String("data", "data/test.csv", "the evaluation split")
	out := flag.String("out", "metrics.json", "where the metrics go")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("evaluate: ")

	m, err := weather.Load(filepath.Join(*modelDir, "model.json"))
	if err != nil {
		log.Fatal(err)
	}
	days, err := weather.ReadFile(*data)
	if err != nil {
		log.Fatal(err)
	}

	truth := make([]string, len(days))
	truthIdx := make([]int, len(days))
	pred := make([]string, len(days))
	probs := make([][]float64, len(days))
	latencies := make([]float64, len(days))
	byLocation := map[string][2][]string{}
	for i, d := range days {
		start := time.Now()
		pred[i], probs[i] = m.Predict(d)
		latencies[i] = float64(time.Since(start).Nanoseconds()) / 1e6
		truth[i] = d.Weather
		// A class the model never saw in training has probability 0: the
		// clipped log loss charges it fully.
		truthIdx[i] = slices.Index(m.Classes, d.Weather)
		loc := byLocation[d.Location]
		loc[0], loc[1] = append(loc[0], truth[i]), append(loc[1], pred[i])
		byLocation[d.Location] = loc
	}
	accByLoc := map[string]float64{}
	for loc, tp := range byLocation {
		accByLoc[strings.ReplaceAll(strings.ToLower(loc), " ", "_")] = round(weather.Accuracy(tp[0], tp[1]), 6)
	}

	metrics := map[string]any{
		"accuracy":             round(weather.Accuracy(truth, pred), 6),
		"macro_f1":             round(weather.MacroF1(truth, pred, m.Classes), 6),
		"log_loss":             round(logLoss(truthIdx, probs), 6),
		"accuracy_by_location": accByLoc,
		"latency_ms":           map[string]float64{"p95": round(weather.Percentile(latencies, 95), 6)},
	}
	data2, err := json.MarshalIndent(metrics, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(data2, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("evaluate: %d rows: accuracy %.3f, macro F1 %.3f, log loss %.3f, by location %v\n",
		len(days), metrics["accuracy"], metrics["macro_f1"], metrics["log_loss"], accByLoc)
}

// logLoss treats a class the model does not know as probability 0.
func logLoss(truth []int, probs [][]float64) float64 {
	known, kp := []int{}, [][]float64{}
	unknown := 0
	for i, y := range truth {
		if y < 0 {
			unknown++
			continue
		}
		known, kp = append(known, y), append(kp, probs[i])
	}
	n := float64(len(truth))
	return (weather.LogLoss(known, kp)*float64(len(known)) - float64(unknown)*math.Log(1e-15)) / n
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
