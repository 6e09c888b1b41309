// Command profile summarises the training and evaluation splits (rows,
// class shares, feature means per split): the reference a reviewer reads
// next to the metrics, and what drift monitoring starts from. It runs
// beside train, since neither needs the other.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/podium-ml/podium/examples/weather/pipeline/weather"
)

type split struct {
	Rows    int                `json:"rows"`
	Classes map[string]float64 `json:"class_share"`
	Means   map[string]float64 `json:"feature_mean"`
}

func main() {
	train := flag.String("train", "data/train.csv", "the training split")
	test := flag.String("test", "data/test.csv", "the evaluation split")
	out := flag.String("out", "reports/profile.json", "where the profile goes")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("profile: ")

	report := map[string]split{}
	for name, path := range map[string]string{"train": *train, "test": *test} {
		days, err := weather.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		s := split{Rows: len(days), Classes: map[string]float64{}, Means: map[string]float64{}}
		for _, d := range days {
			s.Classes[d.Weather] += 1 / float64(len(days))
			for j, v := range weather.Features(d) {
				s.Means[weather.FeatureNames[j]] += v / float64(len(days))
			}
		}
		report[name] = s
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
