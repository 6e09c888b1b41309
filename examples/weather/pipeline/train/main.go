// Command train fits the weather classifier on the training split and
// writes model.json. Its hyper-parameters are podium params:
// PODIUM_PARAM_LEARNING_RATE, PODIUM_PARAM_EPOCHS, PODIUM_PARAM_L2 and
// PODIUM_PARAM_SEED.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/podium-ml/podium/examples/weather/pipeline/weather"
)

func main() {
	data := flag.String("data", "data/train.csv", "the training split")
	out := flag.String("out", "model", "the model directory")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("train: ")

	lr, err := weather.ParamFloat("LEARNING_RATE", 0.5)
	if err != nil {
		log.Fatal(err)
	}
	l2, err := weather.ParamFloat("L2", 0.001)
	if err != nil {
		log.Fatal(err)
	}
	epochs, err := weather.ParamUint("EPOCHS", 400)
	if err != nil {
		log.Fatal(err)
	}
	seed, err := weather.ParamUint("SEED", 42)
	if err != nil {
		log.Fatal(err)
	}
	days, err := weather.ReadFile(*data)
	if err != nil {
		log.Fatal(err)
	}
	p := weather.Params{LearningRate: lr, Epochs: int(epochs), L2: l2, Seed: seed}
	m, err := weather.Train(days, p)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	if err := m.Save(filepath.Join(*out, "model.json")); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("train: %d rows, %d classes %v, learning rate %g, %d epochs, seed %d\n",
		len(days), len(m.Classes), m.Classes, lr, epochs, seed)
}
