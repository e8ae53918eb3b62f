<?php
// Calls one static method of the plugin's pure classes and prints the outcome as JSON.
//
// Input (stdin, JSON): {"call": "activity_settings::date_error", "args": [...]}. An argument of
// the form {"__object__": {...}} is passed as a stdClass. Output: {"result": ...} or
// {"exception": {"class", "errorcode", "debuginfo"}}. Test harness only.

require(__DIR__ . '/bootstrap.php');

/**
 * Turns {"__object__": {...}} markers into stdClass, recursively.
 *
 * @param mixed $value decoded JSON
 * @return mixed
 */
function lmsbridge_decode_arg($value) {
    if (is_array($value)) {
        if (array_key_exists('__object__', $value) && count($value) === 1) {
            return (object)array_map('lmsbridge_decode_arg', $value['__object__']);
        }
        return array_map('lmsbridge_decode_arg', $value);
    }
    return $value;
}

$request = json_decode(stream_get_contents(STDIN), true);
[$class, $method] = explode('::', $request['call']);
$args = array_map('lmsbridge_decode_arg', $request['args'] ?? []);
try {
    $result = call_user_func_array(['local_lmsbridge\\local\\' . $class, $method], $args);
    echo json_encode(['result' => $result]);
} catch (moodle_exception $e) {
    echo json_encode(['exception' => [
        'class' => get_class($e),
        'errorcode' => $e->errorcode,
        'debuginfo' => $e->debuginfo,
    ]]);
}
