<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

namespace local_lmsbridge\local;

use stdClass;

/**
 * The exam settings lms_bridge writes on an assign or a quiz, and the rules around them.
 *
 * Pure logic, no database and no Moodle API: it is unit-tested under php-cli on its own. The
 * Moodle side (create_module() / update_moduleinfo()) lives in {@see activity_writer}.
 *
 * Two facts from core shape this class:
 * - mod/quiz/lib.php quiz_process_options() rebuilds the eight review* bit masks from 32 form
 *   fields named <field><when> (attemptduring, marksclosed, ...) every time a quiz is saved, so
 *   a quiz written without those fields loses all its review options. {@see review_form_fields()}
 *   turns the bit masks back into those fields, as mod/quiz/mod_form.php data_preprocessing() does.
 * - The date order rules (close after open, cut-off after due, ...) live only in the modules'
 *   mod_form.php validation(); add_moduleinfo()/update_moduleinfo() do not check them. The
 *   plugin therefore checks them itself ({@see date_error()}).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class activity_settings {

    /** @var string[] The module types lms_bridge creates. */
    public const MODNAMES = ['assign', 'quiz'];

    /** @var array<string, string[]> The settings each module type accepts (CONTRACT.md, upsert_activity). */
    public const KEYS = [
        'assign' => ['allowsubmissionsfromdate', 'duedate', 'cutoffdate', 'timelimit'],
        'quiz' => ['timeopen', 'timeclose', 'timelimit', 'attempts', 'quizpassword', 'shuffleanswers',
            'hideresultsuntilclose'],
    ];

    /**
     * @var array<string, int> Review times, named as the quiz form names them, with their bits.
     *
     * The values are mod_quiz\question\display_options::DURING, IMMEDIATELY_AFTER,
     * LATER_WHILE_OPEN and AFTER_CLOSE (mod/quiz/classes/question/display_options.php); the
     * names are the suffixes quiz_review_option_form_to_db() in mod/quiz/lib.php reads.
     */
    public const REVIEW_TIMES = [
        'during' => 0x10000,
        'immediately' => 0x01000,
        'open' => 0x00100,
        'closed' => 0x00010,
    ];

    /**
     * @var string[] The quiz review fields: quiz.review<field> columns, and the admin settings
     * quiz/review<field> (mod_quiz\admin\review_setting::fields(); maxmarks since Moodle 4.3).
     */
    public const REVIEW_FIELDS = ['attempt', 'correctness', 'maxmarks', 'marks', 'specificfeedback',
        'generalfeedback', 'rightanswer', 'overallfeedback'];

    /**
     * Splits the settings given for a module type into those that apply and those that do not.
     *
     * @param string $modname assign or quiz
     * @param array $settings setting name => value, as validated by the external function
     * @return array [array $applicable, string[] $ignoredkeys]
     */
    public static function split(string $modname, array $settings): array {
        $allowed = self::KEYS[$modname] ?? [];
        $applicable = [];
        $ignored = [];
        foreach ($settings as $key => $value) {
            if ($value === null) {
                continue;
            }
            if (in_array($key, $allowed, true)) {
                $applicable[$key] = $value;
            } else {
                $ignored[] = $key;
            }
        }
        return [$applicable, $ignored];
    }

    /**
     * Checks single values: no negative times or counts, and 0/1 switches.
     *
     * @param array $settings applicable settings
     * @return array|null [string identifier, mixed $a] for the first problem, or null
     */
    public static function value_error(array $settings): ?array {
        foreach (['allowsubmissionsfromdate', 'duedate', 'cutoffdate', 'timeopen', 'timeclose', 'timelimit',
                'attempts'] as $key) {
            if (isset($settings[$key]) && (int)$settings[$key] < 0) {
                return ['err_negative', $key];
            }
        }
        foreach (['shuffleanswers', 'hideresultsuntilclose'] as $key) {
            if (isset($settings[$key]) && !in_array((int)$settings[$key], [0, 1], true)) {
                return ['err_notboolean', $key];
            }
        }
        return null;
    }

    /**
     * Checks the order of the dates an activity will have once the new settings are applied.
     *
     * Mirrors the checks of mod/quiz/mod_form.php validation() (timeclose < timeopen is refused)
     * and mod/assign/mod_form.php validation() (due date after the start of submissions, cut-off
     * not before the due date nor before the start). 0 means "not set" and is never compared.
     *
     * @param string $modname assign or quiz
     * @param array $effective the values the activity will have (current values overlaid with the new ones)
     * @return string|null a lang string identifier naming the problem, or null if the order is fine
     */
    public static function date_error(string $modname, array $effective): ?string {
        $get = fn(string $key): int => (int)($effective[$key] ?? 0);
        if ($modname === 'quiz') {
            if ($get('timeopen') && $get('timeclose') && $get('timeclose') < $get('timeopen')) {
                return 'err_closebeforeopen';
            }
            return null;
        }
        $open = $get('allowsubmissionsfromdate');
        $due = $get('duedate');
        $cutoff = $get('cutoffdate');
        if ($open && $due && $due < $open) {
            return 'err_duebeforeopen';
        }
        if ($due && $cutoff && $cutoff < $due) {
            return 'err_cutoffbeforedue';
        }
        if ($open && $cutoff && $cutoff < $open) {
            return 'err_cutoffbeforeopen';
        }
        return null;
    }

    /**
     * Reads the eight review bit masks of a quiz record (or of the quiz admin settings).
     *
     * @param stdClass $source a quiz record (review<field> properties) or get_config('quiz')
     * @param int|null $fallback value for a missing field; null means "all times on"
     * @return array<string, int> field => bits
     */
    public static function review_bits(stdClass $source, ?int $fallback = null): array {
        $all = array_sum(self::REVIEW_TIMES);
        $bits = [];
        foreach (self::REVIEW_FIELDS as $field) {
            $property = 'review' . $field;
            $bits[$field] = isset($source->$property) ? (int)$source->$property : ($fallback ?? $all);
        }
        return $bits;
    }

    /**
     * Turns review bit masks into the form fields quiz_process_options() reads back.
     *
     * @param array<string, int> $bits field => bits
     * @return array<string, int> e.g. ['attemptduring' => 1, 'marksclosed' => 1]; unset times are left out
     */
    public static function review_form_fields(array $bits): array {
        $fields = [];
        foreach ($bits as $field => $mask) {
            foreach (self::REVIEW_TIMES as $whenname => $when) {
                if ($mask & $when) {
                    $fields[$field . $whenname] = 1;
                }
            }
        }
        return $fields;
    }

    /**
     * The bits of one review field that "results hidden until the quiz closes" turns off.
     *
     * Everything a student could see before the close: during the attempt, right after it and
     * later while the quiz is open. "The attempt" during the attempt is forced on by core
     * (quiz_process_options(): reviewattempt |= DURING) and is not a result, so it is kept.
     *
     * @param string $field review field
     * @return int bit mask
     */
    public static function before_close_mask(string $field): int {
        $mask = self::REVIEW_TIMES['immediately'] | self::REVIEW_TIMES['open'];
        if ($field !== 'attempt') {
            $mask |= self::REVIEW_TIMES['during'];
        }
        return $mask;
    }

    /**
     * Whether a quiz shows its results only after it closes (the hideresultsuntilclose setting).
     *
     * @param array<string, int> $bits field => bits
     * @return bool
     */
    public static function results_hidden_until_close(array $bits): bool {
        foreach ($bits as $field => $mask) {
            if ($mask & self::before_close_mask($field)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Applies hideresultsuntilclose to review bit masks.
     *
     * 1 leaves only the "after the quiz is closed" column, switched on for every field (all results
     * are shown once the quiz closes) and clears the columns before it. 0 on a
     * quiz whose results are hidden restores the site's default review options for the times
     * before the close; on a quiz that already shows results earlier it changes nothing.
     *
     * @param array<string, int> $bits current field => bits
     * @param bool $hide the requested setting
     * @param array<string, int> $defaults the site defaults (quiz/review<field>)
     * @return array<string, int> new field => bits
     */
    public static function apply_hide_results(array $bits, bool $hide, array $defaults): array {
        if ($hide) {
            foreach ($bits as $field => $mask) {
                $bits[$field] = ($mask & ~self::before_close_mask($field)) | self::REVIEW_TIMES['closed'];
            }
            return $bits;
        }
        if (!self::results_hidden_until_close($bits)) {
            return $bits;
        }
        foreach ($bits as $field => $mask) {
            $bits[$field] = $mask | (($defaults[$field] ?? 0) & self::before_close_mask($field));
        }
        if (self::results_hidden_until_close($bits)) {
            // The site defaults hide results too: open at least the review of the attempt itself.
            $bits['attempt'] |= self::REVIEW_TIMES['immediately'] | self::REVIEW_TIMES['open'];
        }
        return $bits;
    }

    /**
     * The settings of a new quiz that lms_bridge does not set itself, from the site defaults.
     *
     * moodleform_mod::apply_admin_defaults() gives the quiz form these defaults; without a form
     * nothing does, and quiz has NOT NULL columns without a default (preferredbehaviour,
     * password via quizpassword, subnet, browsersecurity; mod/quiz/db/install.xml), so they must
     * be set. The list follows mod/quiz/tests/generator/lib.php create_instance().
     *
     * @param stdClass $config get_config('quiz')
     * @return array<string, mixed> moduleinfo property => value
     */
    public static function quiz_defaults(stdClass $config): array {
        $get = fn(string $name, $default) => (isset($config->$name) && $config->$name !== '') ? $config->$name : $default;
        return [
            'timeopen' => 0,
            'timeclose' => 0,
            'timelimit' => (int)$get('timelimit', 0),
            'overduehandling' => (string)$get('overduehandling', 'autosubmit'),
            'graceperiod' => (int)$get('graceperiod', 86400),
            'preferredbehaviour' => (string)$get('preferredbehaviour', 'deferredfeedback'),
            'canredoquestions' => (int)$get('canredoquestions', 0),
            'attempts' => (int)$get('attempts', 0),
            'attemptonlast' => (int)$get('attemptonlast', 0),
            'grademethod' => (int)$get('grademethod', 1),
            'decimalpoints' => (int)$get('decimalpoints', 2),
            'questiondecimalpoints' => (int)$get('questiondecimalpoints', -1),
            'questionsperpage' => (int)$get('questionsperpage', 1),
            'navmethod' => (string)$get('navmethod', 'free'),
            'shuffleanswers' => (int)$get('shuffleanswers', 1),
            'sumgrades' => 0,
            'grade' => (float)$get('maximumgrade', 10),
            'quizpassword' => (string)$get('quizpassword', ''),
            'subnet' => (string)$get('subnet', ''),
            'browsersecurity' => (string)$get('browsersecurity', '-'),
            'delay1' => (int)$get('delay1', 0),
            'delay2' => (int)$get('delay2', 0),
            'showuserpicture' => (int)$get('showuserpicture', 0),
            'showblocks' => (int)$get('showblocks', 0),
        ];
    }

    /**
     * The settings of a new assignment that lms_bridge does not set itself, from the site defaults.
     *
     * assign::add_instance() (mod/assign/locallib.php) reads these properties without isset();
     * the site defaults are the assign/<name> settings the assign form applies
     * (mod/assign/settings.php). The dates are not taken from the defaults: lms_bridge sets its
     * own, 0 = not set. The list follows mod/assign/tests/generator/lib.php create_instance().
     *
     * @param stdClass $config get_config('assign')
     * @return array<string, mixed> moduleinfo property => value
     */
    public static function assign_defaults(stdClass $config): array {
        $get = fn(string $name, $default) => (isset($config->$name) && $config->$name !== '') ? $config->$name : $default;
        return [
            'alwaysshowdescription' => (int)$get('alwaysshowdescription', 1),
            'submissiondrafts' => (int)$get('submissiondrafts', 0),
            'requiresubmissionstatement' => (int)$get('requiresubmissionstatement', 0),
            'sendnotifications' => (int)$get('sendnotifications', 0),
            'sendlatenotifications' => (int)$get('sendlatenotifications', 0),
            'sendstudentnotifications' => (int)$get('sendstudentnotifications', 1),
            'allowsubmissionsfromdate' => 0,
            'duedate' => 0,
            'cutoffdate' => 0,
            'gradingduedate' => 0,
            'timelimit' => 0,
            'grade' => 100,
            'teamsubmission' => (int)$get('teamsubmission', 0),
            'requireallteammemberssubmit' => (int)$get('requireallteammemberssubmit', 0),
            'teamsubmissiongroupingid' => 0,
            'preventsubmissionnotingroup' => (int)$get('preventsubmissionnotingroup', 0),
            'blindmarking' => (int)$get('blindmarking', 0),
            'hidegrader' => (int)$get('hidegrader', 0),
            'attemptreopenmethod' => (string)$get('attemptreopenmethod', 'untilpass'),
            'maxattempts' => (int)$get('maxattempts', 1),
            'markingworkflow' => (int)$get('markingworkflow', 0),
            'markingallocation' => (int)$get('markingallocation', 0),
            'markinganonymous' => (int)$get('markinganonymous', 0),
        ];
    }

    /**
     * The settings lms_bridge reports for an activity (get_activities), from its instance record.
     *
     * @param string $modname assign or quiz (anything else reports no settings)
     * @param stdClass $instance the assign or quiz record
     * @return array<string, mixed> every setting of KEYS[$modname]
     */
    public static function read(string $modname, stdClass $instance): array {
        if ($modname === 'assign') {
            return [
                'allowsubmissionsfromdate' => (int)$instance->allowsubmissionsfromdate,
                'duedate' => (int)$instance->duedate,
                'cutoffdate' => (int)$instance->cutoffdate,
                'timelimit' => (int)($instance->timelimit ?? 0),
            ];
        }
        if ($modname === 'quiz') {
            return [
                'timeopen' => (int)$instance->timeopen,
                'timeclose' => (int)$instance->timeclose,
                'timelimit' => (int)$instance->timelimit,
                'attempts' => (int)$instance->attempts,
                'quizpassword' => (string)$instance->password,
                'shuffleanswers' => (int)$instance->shuffleanswers,
                'hideresultsuntilclose' => self::results_hidden_until_close(self::review_bits($instance, 0)) ? 1 : 0,
            ];
        }
        return [];
    }
}
