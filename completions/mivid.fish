# fish completion for mivid. Generated from mivid's commands (mivid completion SHELL); do not edit.
#
# Install it: mivid completion fish > ~/.config/fish/completions/mivid.fish

function __mivid_subcommands
    switch $argv[1]
        case 'mivid'
            echo create get list wait download recover batch open gallery spent account models completion sandbox config
        case 'mivid sandbox'
            echo examples serve
        case 'mivid config'
            echo set get unset show path check
    end
end

function __mivid_takes_value
    switch $argv[1]
        case 'mivid'
            contains -- $argv[2] --region --base-url --profile
            return
        case 'mivid create'
            contains -- $argv[2] --prompt -p --negative-prompt -n --model --endpoint --first-frame --end-frame --element --video --video-use --mode --duration --aspect-ratio --callback-url --external-task-id --fit-mode --download -d --timeout --max-units --from
            return
        case 'mivid list'
            contains -- $argv[2] --page --page-size --status --endpoint --interval
            return
        case 'mivid wait'
            contains -- $argv[2] --interval --timeout --download -d
            return
        case 'mivid download'
            contains -- $argv[2] --download -d
            return
        case 'mivid recover'
            contains -- $argv[2] --limit
            return
        case 'mivid batch'
            contains -- $argv[2] --concurrency -c --download -d --fit-mode --interval --max-units
            return
        case 'mivid open'
            contains -- $argv[2] --download -d
            return
        case 'mivid spent'
            contains -- $argv[2] --since
            return
        case 'mivid sandbox serve'
            contains -- $argv[2] --port --host --task-seconds --concurrency-limit --units --answers --retire-model --video-head-status
            return
    end
    return 1
end

# Prints the command path being completed, the number of arguments so far, and the first one.
function __mivid_state
    set -l words (commandline -opc)
    set -l path mivid
    set -l arguments
    set -l skip 0
    for word in $words[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '--*=*'
            case '-'
                set -a arguments $word
            case '-*'
                if __mivid_takes_value $path $word
                    set skip 1
                end
            case '*'
                if test (count $arguments) -eq 0; and contains -- $word (string split ' ' -- (__mivid_subcommands $path))
                    set path "$path $word"
                else
                    set -a arguments $word
                end
        end
    end
    echo $path
    echo (count $arguments)
    echo "$arguments[1]"
end

function __mivid_using
    set -l state (__mivid_state)
    test "$state[1]" = "$argv[1]"
end

function __mivid_argument
    set -l state (__mivid_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" = "$argv[2]"
end

function __mivid_first_argument_is
    set -l state (__mivid_state)
    test "$state[3]" = "$argv[1]"
end

function __mivid_images
    set -l token (commandline -ct)
    for file in $token*
        if test -d $file
            echo $file/
        else if string match -qir '\.(jpe?g|png)$' -- $file
            echo $file
        end
    end
end

function __mivid_jobs
    set -l token (commandline -ct)
    for file in $token*
        if test -d $file
            echo $file/
        else if string match -qir '\.(jsonl|csv)$' -- $file
            echo $file
        end
    end
end

complete -c mivid -f
complete -c mivid -n '__mivid_using \'mivid\'' -a create -d 'Create a video task from reference images and a prompt'
complete -c mivid -n '__mivid_using \'mivid\'' -a get -d 'Show a task: status, failure reason, times, videos, units'
complete -c mivid -n '__mivid_using \'mivid\'' -a list -d 'List tasks of every endpoint, newest first'
complete -c mivid -n '__mivid_using \'mivid\'' -a wait -d 'Wait for tasks to end, and optionally save their videos'
complete -c mivid -n '__mivid_using \'mivid\'' -a download -d 'Save the videos of finished tasks'
complete -c mivid -n '__mivid_using \'mivid\'' -a recover -d 'Settle creates whose outcome is unknown'
complete -c mivid -n '__mivid_using \'mivid\'' -a batch -d 'Send every job of a jobs file, at most N running at once'
complete -c mivid -n '__mivid_using \'mivid\'' -a open -d 'Open a task\'s video with the system\'s default player'
complete -c mivid -n '__mivid_using \'mivid\'' -a gallery -d 'Write DIR/index.html: a page of the videos saved in DIR'
complete -c mivid -n '__mivid_using \'mivid\'' -a spent -d 'Tasks and units per day and per model, from the journal'
complete -c mivid -n '__mivid_using \'mivid\'' -a account -d 'The account\'s resource packs: units left, status, valid until'
complete -c mivid -n '__mivid_using \'mivid\'' -a models -d 'The models mivid knows: endpoint, images, durations, options'
complete -c mivid -n '__mivid_using \'mivid\'' -a completion -d 'Print the completion script for bash, zsh or fish'
complete -c mivid -n '__mivid_using \'mivid\'' -a sandbox -d 'The offline emulator, and example files to try it with'
complete -c mivid -n '__mivid_using \'mivid\'' -a config -d 'Show and change settings: keys, region, defaults, profiles'
complete -c mivid -n '__mivid_using \'mivid\'' -l region -x -a 'global china' -d 'Kling region: global or china'
complete -c mivid -n '__mivid_using \'mivid\'' -l base-url -x -d 'API base URL, overriding the region'
complete -c mivid -n '__mivid_using \'mivid\'' -l profile -x -d 'Config file profile to use'
complete -c mivid -n '__mivid_using \'mivid\'' -l sandbox -d 'Use the built-in offline emulator: no keys, no network, nothing billed'
complete -c mivid -n '__mivid_using \'mivid\'' -l verbose -s v -d 'Log each HTTP request to stderr (keys redacted)'
complete -c mivid -n '__mivid_using \'mivid\'' -l debug -d 'On an error, print its traceback to stderr too (keys redacted)'
complete -c mivid -n '__mivid_using \'mivid\'' -l no-color -d 'No colour (as NO_COLOR does)'
complete -c mivid -n '__mivid_using \'mivid\'' -l version -d 'Show the version and exit'
complete -c mivid -n '__mivid_using \'mivid\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid create\'' -l prompt -s p -x -d 'What the video shows (at most 2500 characters)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l negative-prompt -s n -x -d 'What the video should avoid (at most 2500 characters)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l model -x -a 'kling-v1-6 kling-video-o1 kling-v3-omni' -d 'Model name'
complete -c mivid -n '__mivid_using \'mivid create\'' -l endpoint -x -a 'multi-image omni' -d 'Where to send a model mivid does not know yet'
complete -c mivid -n '__mivid_using \'mivid create\'' -l first-frame -x -a '(__mivid_images)' -d 'The video\'s first frame, a JPEG or PNG file or a URL (Omni-Video)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l end-frame -x -a '(__mivid_images)' -d 'The video\'s last frame, with --first-frame (Omni-Video)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l element -x -d 'An element id from your element library, repeatable (Omni-Video)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l video -x -d 'A reference video\'s URL: MP4 or MOV, 3 to 10 s (Omni-Video)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l video-use -x -a 'feature base' -d 'With --video: take its features (style, camera, motion) or edit it as the base'
complete -c mivid -n '__mivid_using \'mivid create\'' -l keep-sound -l no-keep-sound -d 'With --video: keep the video\'s own sound, or drop it'
complete -c mivid -n '__mivid_using \'mivid create\'' -l mode -x -a 'std pro' -d 'std (720p, cheaper) or pro (1080p)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l duration -x -a '3 4 5 6 7 8 9 10' -d 'Video length in seconds: 5 or 10 (Multi-Image to Video), 3 to 10 (Omni-Video'
complete -c mivid -n '__mivid_using \'mivid create\'' -l aspect-ratio -x -a '16:9 9:16 1:1' -d 'Video width:height: 16:9, 9:16 or 1:1'
complete -c mivid -n '__mivid_using \'mivid create\'' -l watermark -l no-watermark -d 'Also produce a watermarked copy of the video (--no-watermark: not even when --from\'s create did)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l callback-url -x -d 'URL the service POSTs the task to on each status change'
complete -c mivid -n '__mivid_using \'mivid create\'' -l external-task-id -x -d 'Your own id for the task, unique per account'
complete -c mivid -n '__mivid_using \'mivid create\'' -l fit -d 'Fix local images that break a size rule (over 10 MB, a side under 300 px, width:height beyond 2.5:1) in a copy made in memory'
complete -c mivid -n '__mivid_using \'mivid create\'' -l fit-mode -x -a 'pad crop' -d 'How --fit fixes the aspect ratio: pad (with the edge colour, or transparency) or crop (the centre)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l dry-run -d 'Check everything and print the request body'
complete -c mivid -n '__mivid_using \'mivid create\'' -l json -d 'Print the task object as JSON, with "endpoint" and "local" as `get --json` writes them'
complete -c mivid -n '__mivid_using \'mivid create\'' -l quiet -s q -d 'Print the task id alone'
complete -c mivid -n '__mivid_using \'mivid create\'' -l wait -s w -d 'Wait for the task to end (exit 1 if it fails)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l download -s d -x -a '(__fish_complete_directories (commandline -ct))' -d 'Wait, then save the video into this folder (implies --wait)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l watermarked -d 'With --download: save the watermarked copy'
complete -c mivid -n '__mivid_using \'mivid create\'' -l gallery -d 'With --download: bring DIR/index.html (mivid gallery) up to date at the end'
complete -c mivid -n '__mivid_using \'mivid create\'' -l timeout -x -d 'With --wait: give up waiting after this many seconds (exit 6)'
complete -c mivid -n '__mivid_using \'mivid create\'' -l max-units -x -d 'Send nothing (exit 4) when a task of this kind (model, mode, duration) cost more than N units the last time the journal saw one'
complete -c mivid -n '__mivid_using \'mivid create\'' -l from -x -d 'Start from the create of this task (a task id or external id the journal knows): its images, prompt, negative prompt, model and options'
complete -c mivid -n '__mivid_using \'mivid create\'' -l no-journal -d 'Send even though the local journal of creates cannot be used: nothing is written down, so `mivid recover` cannot settle a lost answer'
complete -c mivid -n '__mivid_using \'mivid create\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid create\'' -k -a '(__mivid_images)'
complete -c mivid -n '__mivid_using \'mivid get\'' -l json -d 'Print the task object as JSON (an array when several ids or `-` are given), with "endpoint" and, for a task the local journal knows, "local" (as `list --json`)'
complete -c mivid -n '__mivid_using \'mivid get\'' -l quiet -s q -d 'Print the task ids alone (an external id\'s task id)'
complete -c mivid -n '__mivid_using \'mivid get\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid list\'' -l page -x -d 'Page number, 1 to 1000'
complete -c mivid -n '__mivid_using \'mivid list\'' -l page-size -x -d 'Tasks per page, 1 to 500'
complete -c mivid -n '__mivid_using \'mivid list\'' -l all -d 'Follow the pages (from --page on) until the last one the service lists'
complete -c mivid -n '__mivid_using \'mivid list\'' -l status -x -a 'submitted processing succeed failed unfinished' -d 'Only tasks with this status: submitted, processing, succeed, failed, or unfinished (not ended yet: submitted, processing or a status mivid does not know)'
complete -c mivid -n '__mivid_using \'mivid list\'' -l endpoint -x -a 'multi-image omni' -d 'Only the tasks of this endpoint'
complete -c mivid -n '__mivid_using \'mivid list\'' -l json -d 'Print a JSON array of task objects, each with "endpoint" (whose list it came from) and, for a task the local journal knows, "local"'
complete -c mivid -n '__mivid_using \'mivid list\'' -l quiet -s q -d 'Print task ids only, one a line'
complete -c mivid -n '__mivid_using \'mivid list\'' -l local -d 'List the creates this machine\'s journal remembers, offline (no keys needed)'
complete -c mivid -n '__mivid_using \'mivid list\'' -l watch -s W -d 'Redraw the table in place until every task on it has ended (terminal only)'
complete -c mivid -n '__mivid_using \'mivid list\'' -l interval -x -d 'With --watch: seconds between redraws (each asks the service)'
complete -c mivid -n '__mivid_using \'mivid list\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l interval -x -d 'Seconds between a task\'s queries at first'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l timeout -x -d 'Give up after this many seconds (exit 6)'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l download -s d -x -a '(__fish_complete_directories (commandline -ct))' -d 'Save each finished video into this folder'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l watermarked -d 'With --download: save the watermarked copy'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l force -d 'With --download: replace existing files of another size'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l gallery -d 'With --download: bring DIR/index.html (mivid gallery) up to date at the end'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l json -d 'Print the final task objects as a JSON array, each as its task ends (on a timeout, those that ended), with "endpoint" and "local" as `get --json` writes them'
complete -c mivid -n '__mivid_using \'mivid wait\'' -l quiet -s q -d 'Print the ids of the tasks as they end, one a line'
complete -c mivid -n '__mivid_using \'mivid wait\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid download\'' -l download -s d -x -a '(__fish_complete_directories (commandline -ct))' -d 'Folder to save into (made when missing)'
complete -c mivid -n '__mivid_using \'mivid download\'' -l watermarked -d 'Save the watermarked copy instead'
complete -c mivid -n '__mivid_using \'mivid download\'' -l force -d 'Replace existing files of another size'
complete -c mivid -n '__mivid_using \'mivid download\'' -l json -d 'Print a JSON array of the saved files'
complete -c mivid -n '__mivid_using \'mivid download\'' -l quiet -s q -d 'Print the ids of the tasks whose videos were saved'
complete -c mivid -n '__mivid_using \'mivid download\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid recover\'' -l json -d 'Print the results as a JSON array'
complete -c mivid -n '__mivid_using \'mivid recover\'' -l limit -x -d 'Look at most at this many unsettled creates (newest first)'
complete -c mivid -n '__mivid_using \'mivid recover\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l concurrency -s c -x -d 'At most this many of the batch\'s tasks running at once (1 to 50)'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l download -s d -x -a '(__fish_complete_directories (commandline -ct))' -d 'Save each video into this folder as soon as its task ends'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l watermarked -d 'With --download: save the watermarked copy'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l gallery -d 'With --download: bring DIR/index.html (mivid gallery) up to date at the end'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l fit -d 'Fix local images that break a size rule in a copy made in memory (see `mivid create --help`)'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l fit-mode -x -a 'pad crop' -d 'How --fit fixes the aspect ratio: pad or crop'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l interval -x -d 'Seconds between a task\'s queries at first'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l json -d 'Print a JSON report: one object per job, in file order'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l dry-run -d 'Check every job and show which would be sent, skipped or resumed'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l max-units -x -d 'Never let this run\'s tasks cost more than N units (deducted, plus an estimate for those in flight from the costs the journal saw)'
complete -c mivid -n '__mivid_using \'mivid batch\'' -l no-journal -d 'Send even though the local journal of creates cannot be used: nothing is written down, so `mivid recover` cannot settle a lost answer'
complete -c mivid -n '__mivid_using \'mivid batch\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid batch\' 0' -k -a '(__mivid_jobs)'
complete -c mivid -n '__mivid_using \'mivid open\'' -l download -s d -x -a '(__fish_complete_directories (commandline -ct))' -d 'Folder the videos were downloaded into'
complete -c mivid -n '__mivid_using \'mivid open\'' -l print -d 'Print the path or URL instead of opening it'
complete -c mivid -n '__mivid_using \'mivid open\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid gallery\'' -l open -d 'Open the page in the browser'
complete -c mivid -n '__mivid_using \'mivid gallery\'' -l json -d 'Print the cards the page shows as a JSON array (the page is written too)'
complete -c mivid -n '__mivid_using \'mivid gallery\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid gallery\' 0' -a '(__fish_complete_directories (commandline -ct))'
complete -c mivid -n '__mivid_using \'mivid spent\'' -l since -x -d 'From this day on: 7d (today and the 6 days before) or a date, 2026-11-01'
complete -c mivid -n '__mivid_using \'mivid spent\'' -l json -d 'Print one object: totals, days, models'
complete -c mivid -n '__mivid_using \'mivid spent\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid account\'' -l json -d 'Print the service\'s list of resource packs as it came (resource_pack_subscribe_infos)'
complete -c mivid -n '__mivid_using \'mivid account\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid models\'' -l json -d 'Print a JSON array: each model\'s endpoint, image counts, modes, durations, what else it takes, retirement date (null: none known)'
complete -c mivid -n '__mivid_using \'mivid models\'' -l quiet -s q -d 'Print the model names alone, one a line'
complete -c mivid -n '__mivid_using \'mivid models\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid completion\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid completion\' 0' -a 'bash zsh fish'
complete -c mivid -n '__mivid_using \'mivid sandbox\'' -a examples -d 'Write two example images and a jobs file to try mivid with'
complete -c mivid -n '__mivid_using \'mivid sandbox\'' -a serve -d 'Serve the emulator over HTTP until Ctrl-C'
complete -c mivid -n '__mivid_using \'mivid sandbox\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid sandbox examples\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid sandbox examples\' 0' -a '(__fish_complete_directories (commandline -ct))'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l port -x -d 'TCP port to listen on (0 picks a free one)'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l host -x -d 'Address to listen on'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l task-seconds -x -d 'How long each task takes to finish'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l concurrency-limit -x -d 'Running tasks allowed per account before code 1303'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l units -x -d 'Units left in the account\'s video pack (0: used up, every create refused with 1102)'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l answers -x -d 'Answer as the live service really does (live) or as its documentation says (documented): not-found codes, echoed external ids, request ids, units'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l retire-model -x -d 'Refuse creates naming this model, as the service does with a retired one'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -l video-head-status -x -d 'The video host answers HEAD with this status (403 or 405, as CDNs with signed URLs do)'
complete -c mivid -n '__mivid_using \'mivid sandbox serve\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid config\'' -a set -d 'Store a setting in the config file'
complete -c mivid -n '__mivid_using \'mivid config\'' -a get -d 'Print one setting\'s effective value'
complete -c mivid -n '__mivid_using \'mivid config\'' -a unset -d 'Remove a setting from the profile in the config file'
complete -c mivid -n '__mivid_using \'mivid config\'' -a show -d 'Show every setting, its value and where it comes from'
complete -c mivid -n '__mivid_using \'mivid config\'' -a path -d 'Print the config file\'s path'
complete -c mivid -n '__mivid_using \'mivid config\'' -a check -d 'Check that the service accepts the credentials'
complete -c mivid -n '__mivid_using \'mivid config\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid config set\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a access-key -d 'access key (with the secret key, signs a JWT)'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a secret-key -d 'secret key that signs the JWT'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a api-key -d 'API key sent as a static bearer token'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a region -d 'which Kling host to use'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a base-url -d 'API base URL; overrides the region (may carry a path)'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a model -d 'default model for create'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a mode -d 'default mode for create'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a duration -d 'default duration in seconds'
complete -c mivid -n '__mivid_argument \'mivid config set\' 0' -a aspect-ratio -d 'default aspect ratio for create'
complete -c mivid -n '__mivid_argument \'mivid config set\' 1; and __mivid_first_argument_is region' -a 'global china'
complete -c mivid -n '__mivid_argument \'mivid config set\' 1; and __mivid_first_argument_is mode' -a 'std pro'
complete -c mivid -n '__mivid_argument \'mivid config set\' 1; and __mivid_first_argument_is duration' -a '3 4 5 6 7 8 9 10'
complete -c mivid -n '__mivid_argument \'mivid config set\' 1; and __mivid_first_argument_is aspect-ratio' -a '16:9 9:16 1:1'
complete -c mivid -n '__mivid_using \'mivid config get\'' -l reveal -d 'Print a secret key\'s value (refused otherwise)'
complete -c mivid -n '__mivid_using \'mivid config get\'' -l json -d 'Print the key, its value and where it comes from as JSON'
complete -c mivid -n '__mivid_using \'mivid config get\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a access-key -d 'access key (with the secret key, signs a JWT)'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a secret-key -d 'secret key that signs the JWT'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a api-key -d 'API key sent as a static bearer token'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a region -d 'which Kling host to use'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a base-url -d 'API base URL; overrides the region (may carry a path)'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a model -d 'default model for create'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a mode -d 'default mode for create'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a duration -d 'default duration in seconds'
complete -c mivid -n '__mivid_argument \'mivid config get\' 0' -a aspect-ratio -d 'default aspect ratio for create'
complete -c mivid -n '__mivid_using \'mivid config unset\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a access-key -d 'access key (with the secret key, signs a JWT)'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a secret-key -d 'secret key that signs the JWT'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a api-key -d 'API key sent as a static bearer token'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a region -d 'which Kling host to use'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a base-url -d 'API base URL; overrides the region (may carry a path)'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a model -d 'default model for create'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a mode -d 'default mode for create'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a duration -d 'default duration in seconds'
complete -c mivid -n '__mivid_argument \'mivid config unset\' 0' -a aspect-ratio -d 'default aspect ratio for create'
complete -c mivid -n '__mivid_using \'mivid config show\'' -l json -d 'Print an object: profile, config file, and each key\'s value'
complete -c mivid -n '__mivid_using \'mivid config show\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid config path\'' -s h -l help -d 'Show the help'
complete -c mivid -n '__mivid_using \'mivid config check\'' -l json -d 'Print the result (credential kind, region, base URL) as JSON'
complete -c mivid -n '__mivid_using \'mivid config check\'' -s h -l help -d 'Show the help'
