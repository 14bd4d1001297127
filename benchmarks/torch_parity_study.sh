#!/bin/bash
# The controlled experiments behind docs/quirks.md's "Mini-batch Adam against PyTorch": one
# factor at a time against the recorded vs_torch_adam setting (x/255, Normal(0, 0.03), Adam
# 1e-3, batch 128), on a smaller net and fewer epochs than the record so it fits a shared
# 2-core machine.  Usage: bash benchmarks/torch_parity_study.sh [HIDDEN] [EPOCHS] [SEEDS] [PART]
# PART: torch (the PyTorch runs), mpidl (the mpidl runs) or all (default), so the two halves
# can run side by side.
set -u
cd "$(dirname "$0")"
HIDDEN=${1:-512,512}; EPOCHS=${2:-3}; SEEDS=${3:-2}; PART=${4:-all}
COMMON=(--hidden "$HIDDEN" --max-epochs "$EPOCHS" --eval-every 0.5 --seeds "$SEEDS"
        --no-throughput --inputs x255)
ADAM=(--set 'adaptive_rate_method="Adam"' --set rate=0.001 --set shuffle_training_data=true)
H2O_INIT=(--set 'initial_weight_distribution="Normal"' --set initial_weight_scale=0.03)
run() {
    [[ $PART == all || $PART == "$1" ]] || return 0
    shift
    echo "=== $*"
    python vs_torch.py "${COMMON[@]}" "$@" 2>/dev/null | sed -n '/^| system/,$p'
}
run torch --systems torch                                   # PyTorch's own init
run torch --systems torch --init h2o                        # PyTorch given H2O's init
run mpidl --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}"     # the recorded setting
run mpidl --systems mpidl "${ADAM[@]}" --init torch         # mpidl given PyTorch's init
run mpidl --systems mpidl "${ADAM[@]}" --init normal0       # zero biases
run mpidl --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --set rate_annealing=0
run mpidl --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --threads 1    # no Hogwild
run mpidl --systems mpidl "${ADAM[@]}" "${H2O_INIT[@]}" --eval-every 1 # one permutation per epoch
