"""A typed facade over ``pm.hook`` so the engine calls hooks by keyword, readably and checked by mypy.

Each method calls the hook of the same name; for ``firstresult`` hooks it returns the winning result (``None`` when
no plugin handled the call). Generated once from :mod:`optima_core.hookspecs` and kept in step by a test.
"""

from __future__ import annotations

from typing import Any


class Hooks:
    """Call OPTIMA hooks through a plugin manager's ``hook`` relay."""

    def __init__(self, relay: Any) -> None:
        self._relay = relay

    def InputHandler(self) -> type | None:  # noqa: N802
        return self._relay.InputHandler()

    def get_experiment_inputs(
        self,
        *,
        run_config: Any,
        input_handler: Any,
        output_dir: Any,
        inputs_for_crossvalidation: bool,
        disable_printing: bool,
    ) -> Any:
        return self._relay.get_experiment_inputs(
            run_config=run_config,
            input_handler=input_handler,
            output_dir=output_dir,
            inputs_for_crossvalidation=inputs_for_crossvalidation,
            disable_printing=disable_printing,
        )

    def get_inputs(self, *, run_config: Any, nevts: Any, input_vars_list: Any, disable_printing: bool) -> Any:
        return self._relay.get_inputs(
            run_config=run_config, nevts=nevts, input_vars_list=input_vars_list, disable_printing=disable_printing
        )

    def get_training_data(
        self,
        *,
        dataset: Any,
        splitting_cond: Any,
        do_kfold: bool,
        shuffle: bool,
        fixed_test_dataset: bool,
        disable_printing: bool,
    ) -> Any:
        return self._relay.get_training_data(
            dataset=dataset,
            splitting_cond=splitting_cond,
            do_kfold=do_kfold,
            shuffle=shuffle,
            fixed_test_dataset=fixed_test_dataset,
            disable_printing=disable_printing,
        )

    def plot_input_data(self, *, run_config: Any, dataset: Any, outdir: Any, input_vars_list: Any) -> Any:
        return self._relay.plot_input_data(
            run_config=run_config, dataset=dataset, outdir=outdir, input_vars_list=input_vars_list
        )

    def build_tensorflow_dataset(
        self, *, ray_dataset: Any, input_handler: Any, run_config: Any, model_config: Any
    ) -> Any:
        return self._relay.build_tensorflow_dataset(
            ray_dataset=ray_dataset, input_handler=input_handler, run_config=run_config, model_config=model_config
        )

    def LightningDataset(self) -> type | None:  # noqa: N802
        return self._relay.LightningDataset()

    def DataLoader(self) -> type | None:  # noqa: N802
        return self._relay.DataLoader()

    def DataModule(self) -> type | None:  # noqa: N802
        return self._relay.DataModule()

    def build_model(self, *, model_config: Any, input_handler: Any, train_data: Any) -> Any:
        return self._relay.build_model(model_config=model_config, input_handler=input_handler, train_data=train_data)

    def compile_model(
        self,
        *,
        model: Any,
        model_config: Any,
        metrics: Any,
        weighted_metrics: Any,
        input_handler: Any,
        train_data: Any,
        first_compile: bool,
    ) -> Any:
        return self._relay.compile_model(
            model=model,
            model_config=model_config,
            metrics=metrics,
            weighted_metrics=weighted_metrics,
            input_handler=input_handler,
            train_data=train_data,
            first_compile=first_compile,
        )

    def update_model(self, *, model: Any, model_config: Any, input_handler: Any, train_data: Any) -> Any:
        return self._relay.update_model(
            model=model, model_config=model_config, input_handler=input_handler, train_data=train_data
        )

    def get_loss(self, *, run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> Any:
        return self._relay.get_loss(
            run_config=run_config, model_config=model_config, model=model, dataset=dataset, input_handler=input_handler
        )

    def get_native_metric_values(
        self,
        *,
        run_config: Any,
        native_metrics: Any,
        model_config: Any,
        model: Any,
        dataset_or_dataloader: Any,
        input_handler: Any,
    ) -> Any:
        return self._relay.get_native_metric_values(
            run_config=run_config,
            native_metrics=native_metrics,
            model_config=model_config,
            model=model,
            dataset_or_dataloader=dataset_or_dataloader,
            input_handler=input_handler,
        )

    def LitModel(self) -> type | None:  # noqa: N802
        return self._relay.LitModel()

    def fit_function(self, *, df: Any, metric_to_fit: str, metric_to_fit_op: Any, overtraining_conditions: Any) -> Any:
        return self._relay.fit_function(
            df=df,
            metric_to_fit=metric_to_fit,
            metric_to_fit_op=metric_to_fit_op,
            overtraining_conditions=overtraining_conditions,
        )

    def evaluate(
        self,
        *,
        run_config: Any,
        model_path: Any,
        model_config: Any,
        dataset_split: Any,
        input_handler: Any,
        fig_dir: Any,
        native_metrics: Any,
        weighted_native_metrics: Any,
        custom_metrics: Any,
        composite_metrics: Any,
        class_labels: Any,
        cpus: Any,
        print_results: bool,
        return_unfilled: bool,
    ) -> Any:
        return self._relay.evaluate(
            run_config=run_config,
            model_path=model_path,
            model_config=model_config,
            dataset_split=dataset_split,
            input_handler=input_handler,
            fig_dir=fig_dir,
            native_metrics=native_metrics,
            weighted_native_metrics=weighted_native_metrics,
            custom_metrics=custom_metrics,
            composite_metrics=composite_metrics,
            class_labels=class_labels,
            cpus=cpus,
            print_results=print_results,
            return_unfilled=return_unfilled,
        )

    def finalize_model(
        self,
        *,
        run_config: Any,
        dataset_split: Any,
        results_dir: Any,
        model_dir: Any,
        model_info: Any,
        input_handler: Any,
    ) -> None:
        self._relay.finalize_model(
            run_config=run_config,
            dataset_split=dataset_split,
            results_dir=results_dir,
            model_dir=model_dir,
            model_info=model_info,
            input_handler=input_handler,
        )

    def optima_tune_callbacks(self, *, run_config: Any, stage: Any) -> list[Any]:
        return list(self._relay.optima_tune_callbacks(run_config=run_config, stage=stage))

    def create_variable_sets_to_try(
        self, *, model_config: Any, models_with_inputs: Any, metric: Any, all_vars: Any, vars_remaining: Any
    ) -> Any:
        return self._relay.create_variable_sets_to_try(
            model_config=model_config,
            models_with_inputs=models_with_inputs,
            metric=metric,
            all_vars=all_vars,
            vars_remaining=vars_remaining,
        )

    def shuffle_input_var(
        self, *, run_config: Any, input_handler: Any, model_config: Any, dataset: Any, vars_to_shuffle: Any
    ) -> Any:
        return self._relay.shuffle_input_var(
            run_config=run_config,
            input_handler=input_handler,
            model_config=model_config,
            dataset=dataset,
            vars_to_shuffle=vars_to_shuffle,
        )

    def evaluate_variable_importance(
        self,
        *,
        run_config: Any,
        model_config: Any,
        models_with_inputs: Any,
        variable_sets: Any,
        metric: Any,
        num_repeats: Any,
        input_handler: Any,
        output_dir: Any,
        cpus: Any,
        return_models_with_inputs: bool,
        var_sets_to_try: Any = None,
        temp_output_path: Any = None,
        cpus_per_model: Any = None,
        gpus_per_model: Any = None,
        training_func: Any = None,
        get_ShufflerAndPredictor_pool: Any = None,  # noqa: N803
        delete_ShufflerAndPredictor_pool: Any = None,  # noqa: N803
        placement_group: Any = None,
        custom_metrics: Any = None,
        composite_metrics: Any = None,
        native_metrics: Any = None,
        weighted_native_metrics: Any = None,
        rng: Any = None,
    ) -> Any:
        return self._relay.evaluate_variable_importance(
            run_config=run_config,
            model_config=model_config,
            models_with_inputs=models_with_inputs,
            variable_sets=variable_sets,
            metric=metric,
            num_repeats=num_repeats,
            input_handler=input_handler,
            output_dir=output_dir,
            cpus=cpus,
            return_models_with_inputs=return_models_with_inputs,
            var_sets_to_try=var_sets_to_try,
            temp_output_path=temp_output_path,
            cpus_per_model=cpus_per_model,
            gpus_per_model=gpus_per_model,
            training_func=training_func,
            get_ShufflerAndPredictor_pool=get_ShufflerAndPredictor_pool,
            delete_ShufflerAndPredictor_pool=delete_ShufflerAndPredictor_pool,
            placement_group=placement_group,
            custom_metrics=custom_metrics,
            composite_metrics=composite_metrics,
            native_metrics=native_metrics,
            weighted_native_metrics=weighted_native_metrics,
            rng=rng,
        )
