#!/bin/bash
# The controlled experiments behind docs/quirks.md's "Mini-batch Adam against PyTorch": one
# factor at a time against the recorded vs_torch_adam setting (x/255, Normal(0, 0.03), Adam
# 1e-3, batch 128), on a smaller net and fewer epochs than the record so it fits a shared
# 2-core machine.  Usage: bash benchmarks/torch_parity_study.sh [HIDDEN] [EPOCHS] [SEEDS]
set -u
cd "$(dirname "$0")"
HIDDEN=${1:-512,512}; EPOCHS=${2:-3}; SEEDS=${3:-2}
COMMON=(--hidden "$HIDDEN" --max-epochs "$EPOCHS" --eval-every 0.5 --seeds "$SEEDS"
        --no-throughput --inputs x255)
ADAM=(--set 'adaptive_rate_method="Adam"' --set rate=0.001)
H2O_INIT=(--set 'initial_weight_distribution="Normal"' --set initial_weight_scale=0.03)
run() { echo "=== $*"; python vs_torch.py "${COMMON[@]}" "$@" 2>/dev/null | sed -n '/^| system/,$p'; }
run --systems torch                                        # PyTorch's own init
run --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --set shuffle_training_data=true  # recorded
run --systems torch --init h2o                             # PyTorch given H2O's init
run --systems mpidl "${ADAM[@]}" --init torch --set shuffle_training_data=true      # mpidl given PyTorch's
run --systems mpidl "${ADAM[@]}" --init normal0 --set shuffle_training_data=true
run --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --set shuffle_training_data=true --set rate_annealing=0
run --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --set shuffle_training_data=true --threads 1
run --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --set shuffle_training_data=false
