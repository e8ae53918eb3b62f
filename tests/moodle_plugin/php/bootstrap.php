<?php
// Test harness for local_lmsbridge: runs the plugin's pure logic under php-cli.
//
// NOT part of the plugin and never shipped. It stands in for the handful of Moodle pieces the
// pure classes touch (get_string, the exception classes, core_text, \core_availability\tree);
// every stand-in is deliberately minimal and only as faithful as these tests need.

define('MOODLE_INTERNAL', true);
define('SITEID', 1);
define('PARAM_INT', 'int');

const LMSBRIDGE_PLUGIN_DIR = __DIR__ . '/../../../adapters/moodle/plugin/local_lmsbridge';

/** Stand-in for moodle_exception (lib/classes/exception/moodle_exception.php). */
class moodle_exception extends Exception {
    public $errorcode;
    public $module;
    public $a;
    public $debuginfo;

    public function __construct($errorcode, $module = '', $link = '', $a = null, $debuginfo = null) {
        $this->errorcode = $errorcode;
        $this->module = $module;
        $this->a = $a;
        $this->debuginfo = $debuginfo;
        parent::__construct($errorcode);
    }
}

/** Stand-in for invalid_parameter_exception: errorcode invalidparameter, reason in debuginfo. */
class invalid_parameter_exception extends moodle_exception {
    public function __construct($debuginfo = null) {
        parent::__construct('invalidparameter', 'debug', '', null, $debuginfo);
    }
}

/** Stand-in for coding_exception: the hint is $a, the message wraps it. */
class coding_exception extends moodle_exception {
    public function __construct($hint = '', $debuginfo = null) {
        parent::__construct('codingerror', 'debug', '', $hint, $debuginfo);
        $this->message = 'Coding error detected, it must be fixed by a programmer: ' . $hint;
    }
}

/** Stand-in for core_text (no mbstring needed). */
class core_text {
    public static function strlen($text) {
        return function_exists('mb_strlen') ? mb_strlen($text, 'UTF-8') : preg_match_all('/./us', $text);
    }
}

/** get_string() reading the plugin's own lang file, with {$a} and {$a->name} placeholders. */
function get_string($identifier, $component = '', $a = null) {
    static $strings = null;
    if ($component !== 'local_lmsbridge') {
        return "[[$identifier,$component]]";
    }
    if ($strings === null) {
        $string = [];
        include(LMSBRIDGE_PLUGIN_DIR . '/lang/en/local_lmsbridge.php');
        $strings = $string;
    }
    if (!array_key_exists($identifier, $strings)) {
        throw new RuntimeException("missing lang string $identifier");
    }
    $text = $strings[$identifier];
    if (is_object($a) || is_array($a)) {
        foreach ((array)$a as $key => $value) {
            $text = str_replace('{$a->' . $key . '}', (string)$value, $text);
        }
    } else if ($a !== null) {
        $text = str_replace('{$a}', (string)$a, $text);
    }
    return $text;
}

/**
 * Stand-in for \core_availability\tree: enough structure checks to exercise the plugin's
 * error reporting (availability/classes/tree.php throws coding_exception for these).
 */
class lmsbridge_stub_tree {
    private $empty;

    public function __construct($structure) {
        if (!is_object($structure)) {
            throw new coding_exception('Invalid availability structure (not object)');
        }
        if (!isset($structure->op) || !in_array($structure->op, ['&', '|', '!&', '!|'], true)) {
            throw new coding_exception('Invalid availability structure (missing ->op)');
        }
        if (!isset($structure->c) || !is_array($structure->c)) {
            throw new coding_exception('Invalid availability structure (missing ->c)');
        }
        if (in_array($structure->op, ['&', '!|'], true)) {
            if (!isset($structure->showc) || count($structure->showc) != count($structure->c)) {
                throw new coding_exception('Invalid availability structure (->c, ->showc mismatch)');
            }
        } else if (!isset($structure->show) || !is_bool($structure->show)) {
            throw new coding_exception('Invalid availability structure (missing ->show)');
        }
        foreach ($structure->c as $child) {
            if (isset($child->type) && !in_array($child->type, ['date', 'group', 'profile', 'grouping', 'completion'], true)) {
                throw new coding_exception('Unknown condition type: ' . $child->type);
            }
        }
        $this->empty = !$structure->c;
    }

    public function is_empty() {
        return $this->empty;
    }
}
class_alias('lmsbridge_stub_tree', 'core_availability\tree');

// The plugin classes under test (Moodle would autoload them from classes/).
require_once(LMSBRIDGE_PLUGIN_DIR . '/classes/local/activity_settings.php');
require_once(LMSBRIDGE_PLUGIN_DIR . '/classes/local/assign_override_rules.php');
require_once(LMSBRIDGE_PLUGIN_DIR . '/classes/local/util.php');
require_once(LMSBRIDGE_PLUGIN_DIR . '/classes/local/availability.php');
