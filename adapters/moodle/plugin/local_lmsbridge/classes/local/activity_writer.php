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

use context_course;
use context_module;
use core_external\external_api;
use stdClass;

/**
 * Creates or updates an assign or quiz found by its course-module idnumber (upsert_activity).
 *
 * Built on core's own module API, as course/modedit.php is:
 * - create: prepare_new_moduleinfo_data() (capability check, missing sections, completion
 *   defaults, intro draft) then create_module() from course/lib.php, which calls
 *   add_moduleinfo() in course/modlib.php;
 * - update: get_moduleinfo_data() (the full current settings, as the edit form loads them)
 *   then update_moduleinfo() from course/modlib.php.
 *
 * Without the module form some work the form normally does has to be done here, because the
 * modules' *_add_instance()/*_update_instance() read properties the form always supplies:
 * - assign: every submission/feedback plugin's <subtype>_<type>_enabled flag (an absent flag
 *   disables the plugin: assign::update_plugin_instance() in mod/assign/locallib.php) and the
 *   settings assign_submission_file::save_settings() reads unguarded;
 * - quiz: quizpassword (quiz_process_options() copies it to password unguarded), the 32 review
 *   form fields (the review bit masks are rebuilt from them), the overall feedback
 *   (quiz_after_add_or_update() deletes all quiz_feedback rows and re-creates them from
 *   feedbacktext[]), and the access rules' settings (mod_quiz\access_manager::save_settings()).
 *
 * @package    local_lmsbridge
 * @copyright  2026 lms_bridge contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class activity_writer {

    /**
     * Creates or updates the activity.
     *
     * @param int $courseid course id
     * @param string $idnumber course module idnumber (lms_bridge's stable tag)
     * @param string $modname assign or quiz
     * @param int $section section number to create it in / move it to
     * @param string $name activity name
     * @param string $intro description HTML
     * @param int $visible 1 shown, 0 hidden
     * @param array $settings exam settings (activity_settings::KEYS); absent = keep / default
     * @return array ['cmid', 'instance', 'created', 'warnings']
     */
    public static function upsert(int $courseid, string $idnumber, string $modname, int $section, string $name,
            string $intro, int $visible, array $settings): array {
        global $CFG;
        require_once($CFG->dirroot . '/course/lib.php');
        require_once($CFG->dirroot . '/course/modlib.php');

        $warnings = [];
        $modname = strtolower(trim($modname));
        if (!in_array($modname, activity_settings::MODNAMES, true)) {
            throw util::invalid('err_modname', $modname);
        }
        $idnumber = util::clean_idnumber($idnumber);
        $name = util::clean_name($name);
        $section = util::check_section($section);
        $visible = $visible ? 1 : 0;

        $course = util::get_course($courseid);
        $context = context_course::instance($course->id);
        external_api::validate_context($context);
        require_capability('moodle/course:manageactivities', $context);

        [$settings, $stray] = activity_settings::split($modname, $settings);
        if ($stray) {
            throw util::invalid('err_settingsnotapplicable', (object)['keys' => implode(', ', $stray), 'modname' => $modname]);
        }
        if ($error = activity_settings::value_error($settings)) {
            throw util::invalid($error[0], $error[1]);
        }
        if ($modname === 'assign' && !empty($settings['timelimit']) && !get_config('assign', 'enabletimelimit')) {
            $warnings[] = util::warning('timelimitdisabled', 'warn_timelimitdisabled', null, 'settings');
        }

        $lock = util::lock_idnumber($course->id, $idnumber);
        try {
            $existing = util::find_cm_by_idnumber($course->id, $idnumber, $warnings);
            if ($existing && $existing->modname !== $modname) {
                throw util::invalid('err_idnumbertaken', (object)['idnumber' => $idnumber, 'modname' => $existing->modname]);
            }
            if ($existing) {
                $result = self::update($course, (int)$existing->id, $modname, $section, $name, $intro, $visible,
                    $settings, $warnings);
            } else {
                // Adding needs the module's addinstance capability; editing (course/modedit.php) does not.
                require_capability("mod/{$modname}:addinstance", $context);
                $result = self::create($course, $idnumber, $modname, $section, $name, $intro, $visible, $settings);
            }
        } finally {
            $lock->release();
        }
        $result['warnings'] = $warnings;
        return $result;
    }

    /**
     * Creates the activity with create_module().
     *
     * @param stdClass $course course record
     * @param string $idnumber course module idnumber
     * @param string $modname assign or quiz
     * @param int $section section number
     * @param string $name activity name
     * @param string $intro description HTML
     * @param int $visible 1 shown, 0 hidden
     * @param array $settings applicable exam settings
     * @return array ['cmid', 'instance', 'created']
     */
    protected static function create(stdClass $course, string $idnumber, string $modname, int $section, string $name,
            string $intro, int $visible, array $settings): array {
        // A new activity's dates are the given ones (the defaults set none), so check them before
        // anything is written: preparing the moduleinfo may already create a missing section.
        if ($error = activity_settings::date_error($modname, $settings)) {
            throw util::invalid($error);
        }

        // Returns [$module, $context, $sectioninfo, $cm, $data]; creates the section if missing and
        // checks moodle/course:manageactivities (course/modlib.php can_add_moduleinfo()).
        $data = prepare_new_moduleinfo_data($course, $modname, $section)[4];

        $data->name = $name;
        $data->introeditor = ['text' => $intro, 'format' => FORMAT_HTML, 'itemid' => $data->introeditor['itemid']];
        $data->showdescription = 0;
        $data->visible = $visible;
        $data->visibleoncoursepage = 1;
        $data->cmidnumber = $idnumber;

        if ($modname === 'assign') {
            foreach (activity_settings::assign_defaults(get_config('assign')) as $key => $value) {
                $data->$key = $value;
            }
            self::assign_plugin_defaults($data, $course);
            self::apply_assign_settings($data, $settings);
        } else {
            foreach (activity_settings::quiz_defaults(get_config('quiz')) as $key => $value) {
                $data->$key = $value;
            }
            $bits = activity_settings::review_bits(get_config('quiz'));
            self::apply_quiz_settings($data, $settings, $bits, $bits);
        }

        $moduleinfo = create_module($data);
        return [
            'cmid' => (int)$moduleinfo->coursemodule,
            'instance' => (int)$moduleinfo->instance,
            'created' => true,
        ];
    }

    /**
     * Updates the activity with update_moduleinfo(), after moving it to the requested section.
     *
     * @param stdClass $course course record
     * @param int $cmid course module id
     * @param string $modname assign or quiz
     * @param int $section section number
     * @param string $name activity name
     * @param string $intro description HTML
     * @param int $visible 1 shown, 0 hidden
     * @param array $settings applicable exam settings
     * @param array $warnings external warnings, appended to
     * @return array ['cmid', 'instance', 'created']
     */
    protected static function update(stdClass $course, int $cmid, string $modname, int $section, string $name,
            string $intro, int $visible, array $settings, array &$warnings): array {
        global $DB;

        $cm = get_coursemodule_from_id($modname, $cmid, $course->id, false, MUST_EXIST);
        if ((int)$cm->visible !== $visible) {
            // update_moduleinfo() silently skips the visibility change without this capability.
            require_capability('moodle/course:activityvisibility', context_module::instance($cm->id));
        }
        // Refuse bad dates before anything is written.
        $current = (array)$DB->get_record($modname, ['id' => $cm->instance], '*', MUST_EXIST);
        if ($error = activity_settings::date_error($modname, array_merge($current, $settings))) {
            throw util::invalid($error);
        }

        $transaction = $DB->start_delegated_transaction();
        try {
            // The move comes first: update_moduleinfo() writes back the whole course_modules record
            // it is given, section included, and then applies the requested visibility.
            util::move_to_section($course, $cmid, $section);

            $cm = get_coursemodule_from_id($modname, $cmid, $course->id, false, MUST_EXIST);
            // Checks moodle/course:manageactivities in the module context (can_update_moduleinfo()).
            [$cm, $modcontext, , $data, ] = get_moduleinfo_data($cm, $course);

            $data->name = $name;
            $data->introeditor['text'] = $intro;
            $data->introeditor['format'] = FORMAT_HTML;
            $data->visible = $visible;
            // get_moduleinfo_data() formats gradepass with format_float() for the form (a decimal
            // comma in some languages); left out, edit_module_post_actions() keeps the grade item's.
            foreach (array_keys(get_object_vars($data)) as $key) {
                if (strpos($key, 'gradepass') === 0) {
                    unset($data->$key);
                }
            }

            if ($modname === 'assign') {
                self::assign_plugin_current($data, $cm, $course, $modcontext);
                self::apply_assign_settings($data, $settings);
                if (!empty($data->gradingduedate) && !empty($data->duedate) && $data->gradingduedate < $data->duedate) {
                    $warnings[] = util::warning('gradingduebeforedue', 'warn_gradingduebeforedue', null, 'cmid', $cmid);
                }
            } else {
                self::quiz_current($data, $modcontext);
                // $data is the quiz record, so it carries the current review<field> bit masks.
                $bits = activity_settings::review_bits($data);
                self::apply_quiz_settings($data, $settings, $bits, activity_settings::review_bits(get_config('quiz')));
                self::check_quiz_options($data);
            }

            update_moduleinfo($cm, $data, $course);
            $transaction->allow_commit();
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        return [
            'cmid' => (int)$cm->id,
            'instance' => (int)$cm->instance,
            'created' => false,
        ];
    }

    /**
     * Applies the assign exam settings to moduleinfo.
     *
     * @param stdClass $data moduleinfo
     * @param array $settings applicable settings
     */
    protected static function apply_assign_settings(stdClass $data, array $settings): void {
        foreach (activity_settings::KEYS['assign'] as $key) {
            if (array_key_exists($key, $settings)) {
                $data->$key = (int)$settings[$key];
            }
        }
    }

    /**
     * Applies the quiz exam settings to moduleinfo, review options included.
     *
     * @param stdClass $data moduleinfo
     * @param array $settings applicable settings
     * @param array $bits current review bit masks (field => bits)
     * @param array $defaults site default review bit masks
     */
    protected static function apply_quiz_settings(stdClass $data, array $settings, array $bits, array $defaults): void {
        foreach (['timeopen', 'timeclose', 'timelimit', 'attempts', 'shuffleanswers'] as $key) {
            if (array_key_exists($key, $settings)) {
                $data->$key = (int)$settings[$key];
            }
        }
        if (array_key_exists('quizpassword', $settings)) {
            $data->quizpassword = (string)$settings['quizpassword'];
        }
        if (array_key_exists('hideresultsuntilclose', $settings)) {
            $bits = activity_settings::apply_hide_results($bits, (bool)$settings['hideresultsuntilclose'], $defaults);
        }
        // quiz_process_options() rebuilds every review<field> column from these form fields.
        foreach (activity_settings::REVIEW_FIELDS as $field) {
            foreach (array_keys(activity_settings::REVIEW_TIMES) as $whenname) {
                unset($data->{$field . $whenname});
            }
        }
        foreach (activity_settings::review_form_fields($bits) as $key => $value) {
            $data->$key = $value;
        }
    }

    /**
     * Submission and feedback plugin flags for a new assignment, as the assign form would default them.
     *
     * mod/assign/mod_form.php builds the assign object without a context for a new instance, and
     * assign::add_plugin_settings() defaults a configurable plugin's "enabled" box to the site's
     * <subtype>_<type>/default setting; a non-configurable visible plugin is always on. File
     * submissions are switched on whatever the default: lms_bridge's assignments are drop-boxes.
     *
     * @param stdClass $data moduleinfo
     * @param stdClass $course course record
     */
    protected static function assign_plugin_defaults(stdClass $data, stdClass $course): void {
        global $CFG;
        require_once($CFG->dirroot . '/mod/assign/locallib.php');

        $assign = new \assign(null, null, $course);
        foreach (array_merge($assign->get_submission_plugins(), $assign->get_feedback_plugins()) as $plugin) {
            if (!$plugin->is_visible()) {
                continue;
            }
            $prefix = $plugin->get_subtype() . '_' . $plugin->get_type();
            $enabled = $plugin->is_configurable() ? get_config($prefix, 'default') : 1;
            $data->{$prefix . '_enabled'} = empty($enabled) ? 0 : 1;
        }
        $data->assignsubmission_file_enabled = 1;

        // Read unguarded by assign_submission_file::save_settings(); defaults as in its get_settings().
        $file = get_config('assignsubmission_file');
        $data->assignsubmission_file_maxfiles = (int)($file->maxfiles ?? 20);
        $data->assignsubmission_file_maxsizebytes = (int)($file->maxbytes ?? 0);
        $data->assignsubmission_file_filetypes = (string)($file->filetypes ?? '');
    }

    /**
     * Submission and feedback plugin flags and settings of an existing assignment, unchanged.
     *
     * assign::update_instance() calls update_plugin_instance() for every plugin, and that
     * disables any plugin whose "enabled" flag is absent; this puts back what each plugin has
     * now (assign_plugin::is_enabled() / get_config()).
     *
     * @param stdClass $data moduleinfo
     * @param stdClass $cm course module
     * @param stdClass $course course record
     * @param context_module $modcontext module context
     */
    protected static function assign_plugin_current(stdClass $data, stdClass $cm, stdClass $course,
            context_module $modcontext): void {
        global $CFG;
        require_once($CFG->dirroot . '/mod/assign/locallib.php');

        $assign = new \assign($modcontext, $cm, $course);
        foreach (array_merge($assign->get_submission_plugins(), $assign->get_feedback_plugins()) as $plugin) {
            $prefix = $plugin->get_subtype() . '_' . $plugin->get_type();
            $data->{$prefix . '_enabled'} = $plugin->is_enabled() ? 1 : 0;
        }

        $defaults = get_config('assignsubmission_file');
        if ($file = $assign->get_submission_plugin_by_type('file')) {
            $maxfiles = $file->get_config('maxfilesubmissions');
            $maxbytes = $file->get_config('maxsubmissionsizebytes');
            $data->assignsubmission_file_maxfiles = (int)($maxfiles === false ? ($defaults->maxfiles ?? 20) : $maxfiles);
            $data->assignsubmission_file_maxsizebytes = (int)($maxbytes === false ? 0 : $maxbytes);
            $data->assignsubmission_file_filetypes = (string)$file->get_config('filetypeslist');
        }
        if ($onlinetext = $assign->get_submission_plugin_by_type('onlinetext')) {
            $data->assignsubmission_onlinetext_wordlimit = (int)$onlinetext->get_config('wordlimit');
            $data->assignsubmission_onlinetext_wordlimit_enabled = (int)$onlinetext->get_config('wordlimitenabled');
        }
        if ($comments = $assign->get_feedback_plugin_by_type('comments')) {
            $data->assignfeedback_comments_commentinline = (int)$comments->get_config('commentinline');
        }
    }

    /**
     * The quiz properties the quiz form would carry that get_moduleinfo_data() does not load.
     *
     * Mirrors mod/quiz/mod_form.php data_preprocessing(): the password as quizpassword, the
     * overall feedback (texts with their files in fresh draft areas, boundaries as grades) and
     * the access rules' settings (mod_quiz\access_manager::load_settings()).
     *
     * @param stdClass $data moduleinfo from get_moduleinfo_data()
     * @param context_module $modcontext module context
     */
    protected static function quiz_current(stdClass $data, context_module $modcontext): void {
        global $CFG, $DB;
        require_once($CFG->dirroot . '/mod/quiz/lib.php');
        require_once($CFG->libdir . '/filelib.php');

        $data->quizpassword = (string)$data->password;

        $feedbacks = $DB->get_records('quiz_feedback', ['quizid' => $data->instance], 'mingrade DESC');
        if ($feedbacks) {
            $texts = [];
            $boundaries = [];
            $i = 0;
            foreach ($feedbacks as $feedback) {
                $draftid = 0;
                $text = file_prepare_draft_area($draftid, $modcontext->id, 'mod_quiz', 'feedback',
                    (int)$feedback->id, null, $feedback->feedbacktext);
                $texts[$i] = ['text' => $text, 'format' => (int)$feedback->feedbacktextformat, 'itemid' => $draftid];
                if ((float)$data->grade == 0) {
                    // An ungraded quiz has a single feedback (as in the quiz form).
                    break;
                }
                if ($feedback->mingrade > 0) {
                    $boundaries[$i] = (float)$feedback->mingrade;
                }
                $i++;
            }
            $data->feedbacktext = $texts;
            $data->feedbackboundaries = $boundaries;
        }

        foreach (\mod_quiz\access_manager::load_settings((int)$data->instance) as $key => $value) {
            if ($value !== null && !property_exists($data, $key)) {
                $data->$key = $value;
            }
        }
    }

    /**
     * Refuses quiz data quiz_process_options() would reject.
     *
     * quiz_update_instance() returns quiz_process_options()'s error string instead of throwing,
     * and update_moduleinfo() only checks that the result is truthy, so a rejected update would
     * otherwise be reported as a success. The check runs on a copy.
     *
     * @param stdClass $data moduleinfo
     */
    protected static function check_quiz_options(stdClass $data): void {
        $probe = clone $data;
        $result = quiz_process_options($probe);
        if (is_string($result) && $result !== '') {
            throw util::invalid('err_quizsettings', $result);
        }
    }
}
