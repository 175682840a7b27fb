-- Up Migration
-- `precog model validate` runs a model version over labelled game states and records each run
-- here: the Brier score, log loss and calibration by bin (probability_models keeps only the
-- latest accuracy and Brier score, at 4 decimals). Runs are history: never updated or deleted.
-- validated_at is written by the caller from its clock (no SQL time default: the clock is the
-- application's, see shared/clock/clock.ts).
CREATE TABLE model_validations (
    validation_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id        BIGINT NOT NULL REFERENCES probability_models (model_id) ON DELETE RESTRICT,
    -- The data file as named on the command line, and the SHA-256 of its bytes.
    data_file       TEXT NOT NULL,
    data_sha256     CHAR(64) NOT NULL CHECK (data_sha256 ~ '^[0-9a-f]{64}$'),
    -- Game states the model priced, and those it skipped (its reason per line is in skips).
    sample_size     INT NOT NULL CHECK (sample_size > 0),
    skipped         INT NOT NULL CHECK (skipped >= 0),
    accuracy        DECIMAL(10,8) NOT NULL CHECK (accuracy BETWEEN 0 AND 1),
    brier_score     DECIMAL(10,8) NOT NULL CHECK (brier_score BETWEEN 0 AND 1),
    log_loss        DECIMAL(14,8) NOT NULL CHECK (log_loss >= 0),
    -- [{"lower": "0.0", "upper": "0.1", "count": 3, "mean_predicted": "0.05", "observed_frequency": "0"} …]
    calibration     JSONB NOT NULL CHECK (jsonb_typeof(calibration) = 'array'),
    skips           JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(skips) = 'array'),
    validated_at    TIMESTAMPTZ NOT NULL,
    validated_by    VARCHAR
);
CREATE INDEX idx_model_validations_model ON model_validations (model_id, validated_at DESC);

CREATE FUNCTION reject_model_validation_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'model_validations are history: never updated or deleted' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER model_validations_immutable BEFORE UPDATE OR DELETE ON model_validations
  FOR EACH ROW EXECUTE FUNCTION reject_model_validation_change();

-- Down Migration
DROP TABLE model_validations;
DROP FUNCTION reject_model_validation_change();
